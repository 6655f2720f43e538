/**
 * Structured JSON logs (pino), one line per request plus lifecycle events.
 * Tokens are never passed to the logger; as a second line of defence any `authorization`
 * field that slips in is redacted. A line written while a span is active (OpenTelemetry
 * configured) carries its `trace_id` and `span_id`, so a log line leads to its trace.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sample-mcp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceIds,
    },
    destination,
  );
}

/** `trace_id`/`span_id` of the active span, when there is a valid one (a fresh object: pino merges into it). */
function traceIds(): Record<string, string> {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}
