/**
 * A pino logger whose JSON lines are kept in memory, so tests can read what the server logged.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.js';

export interface CapturedLogs {
  logger: Logger;
  /** The log lines, parsed. */
  lines(): Record<string, unknown>[];
  /** Everything written, as text. */
  raw(): string;
}

export function captureLogs(level = 'info'): CapturedLogs {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    logger: createLogger(level, sink),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: () => chunks.join(''),
  };
}
