/**
 * Listening on a configured address: a port in use or not allowed stops start-up with a
 * {@link ConfigError} naming the variable that chose it.
 */
import type { Server } from 'node:http';
import { ListenError, listen } from '../web/listen.js';
import { ConfigError } from './config.js';

export async function listenOnConfigured(
  server: Server,
  port: number,
  host: string,
  variable: string,
): Promise<void> {
  try {
    await listen(server, port, host);
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    const fix = err.code === 'in_use' ? `stop the other process or set ${variable} to a free port` : err.fix;
    throw new ConfigError(variable, err.message, fix);
  }
}
