/**
 * `server.listen` with the two common failures explained: a port already in use, or one this
 * process may not bind.
 *
 * @example
 * ```ts
 * await listenOrExplain(server, 3000, '127.0.0.1', 'PORT'); // throws ConfigError naming PORT
 * ```
 */
import type { Server } from 'node:http';
import { ConfigError } from '../config/config.js';

/** Listens; a port in use or not allowed becomes a ConfigError naming the variable. */
export async function listenOrExplain(
  server: Server,
  port: number,
  host: string,
  variable: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new ConfigError(
            variable,
            `${host}:${port} is already in use`,
            `stop the other process or set ${variable} to a free port`,
          ),
        );
      } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(
          new ConfigError(
            variable,
            `cannot listen on ${host}:${port} (${err.code})`,
            'use a port above 1023 or an address of this machine',
          ),
        );
      } else {
        reject(err);
      }
    });
    server.listen(port, host, () => resolve());
  });
}
