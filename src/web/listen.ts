/**
 * `server.listen` as a promise, with the two common failures as a typed error, and the URL a
 * listening server answers on.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A port in use (`EADDRINUSE`) or one this process may not bind (`EACCES`, `EADDRNOTAVAIL`). */
export class ListenError extends Error {
  constructor(
    readonly code: 'in_use' | 'not_allowed',
    readonly address: string,
    /** What to do about it, for a person. */
    readonly fix: string,
  ) {
    super(code === 'in_use' ? `${address} is already in use` : `cannot listen on ${address}`);
    this.name = 'ListenError';
  }
}

/** Listens on `host:port`; rejects with {@link ListenError} for the failures a person can fix. */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const address = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') {
        reject(new ListenError('in_use', address, 'stop the other process or choose a free port'));
      } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(
          new ListenError(
            'not_allowed',
            `${address} (${err.code})`,
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

/** `http://<address>:<port>` of a listening server (IPv6 addresses bracketed). */
export function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
