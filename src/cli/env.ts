/**
 * Shared start-up plumbing for the command-line entry points: `.env` loading and turning a
 * configuration error into one line on stderr and exit code 1.
 */
import { existsSync } from 'node:fs';
import { config as loadDotenv } from 'dotenv';
import { ConfigError } from '../config/config.js';

/** Loads `./.env` if present; real environment variables win. */
export function loadEnvFile(): void {
  if (existsSync('.env')) loadDotenv({ path: '.env', quiet: true });
}

/** Runs `fn`; a ConfigError becomes `sample-mcp: configuration error: …` and exit 1. */
export async function orExit<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sample-mcp: configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

/** Calls `stop` once on SIGINT/SIGTERM, then exits 0 (1 if stopping failed). */
export function onShutdown(stop: () => Promise<void>, log: (signal: string) => void): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(signal);
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
