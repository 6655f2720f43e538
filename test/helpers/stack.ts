/**
 * Starts a test issuer and the resource server on loopback, with tokens for the sample users.
 * Every test file stops what it started (`await stack.close()` in `after`).
 */
import { createServer } from 'node:net';
import type { JWTPayload } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { SqliteOrderStore } from '../../src/orders/sqlite.js';
import { type ResourceServer, startResourceServer } from '../../src/resourceServer.js';
import { type SignOptions, startTestIssuer, type TestIssuer } from './issuer.js';
import { captureLogs } from './logs.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One shared in-memory sample store per test process (generation is deterministic). */
let sharedStore: SqliteOrderStore | undefined;
export function sampleStore(): SqliteOrderStore {
  if (!sharedStore) {
    sharedStore = SqliteOrderStore.open(':memory:');
    sharedStore.ensureSampleData();
  }
  return sharedStore;
}

export interface Stack {
  issuer: TestIssuer;
  rs: ResourceServer;
  /** The public URL (`MCP_SERVER_URL`), here the loopback address it listens on. */
  base: string;
  /** Log lines the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw log text (to assert that no token ever appears). */
  rawLogs: () => string;
  /** A valid access token for a user, with overridable claims. */
  token(user: 'alice' | 'bob' | 'carol' | 'nobody', claims?: JWTPayload, opts?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export const USERS = {
  alice: { sub: 'user-alice', email: 'alice@example.com', roles: [] as string[] },
  bob: { sub: 'user-bob', email: 'bob@example.com', roles: [] as string[] },
  carol: { sub: 'user-carol', email: 'carol@example.com', roles: ['staff'] },
  nobody: { sub: 'user-nobody', email: undefined, roles: [] as string[] },
};

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const issuer = await startTestIssuer();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    KC_ISSUER: issuer.issuer,
    MCP_SERVER_URL: base,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...env,
  });
  const captured = captureLogs();
  const rs = await startResourceServer(config, { logger: captured.logger, store: sampleStore() });
  return {
    issuer,
    rs,
    base,
    get logs() {
      return captured.lines();
    },
    rawLogs: captured.raw,
    token(user, claims = {}, opts = {}) {
      const u = USERS[user];
      return issuer.sign(
        {
          iss: issuer.issuer,
          aud: config.audiences[1] ?? config.audiences[0],
          sub: u.sub,
          azp: 'test-client',
          scope: 'openid email mcp:tools',
          ...(u.email && { email: u.email }),
          realm_access: { roles: u.roles },
          typ: 'Bearer',
          ...claims,
        },
        opts,
      );
    },
    async close() {
      await rs.close();
      await issuer.close();
    },
  };
}

export const JSON_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export const INIT_BODY = (protocolVersion = '2025-11-25') => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1' } },
});

/** A JSON-RPC `tools/call` of `search`. */
export const SEARCH_CALL = (query: string, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'search', arguments: { query } },
});

/** Reads a JSON-RPC message from a JSON or single-event SSE response. */
export async function rpcBody(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .find((l) => l.trim() !== '');
    if (!data) throw new Error(`no data event in ${text}`);
    return JSON.parse(data);
  }
  return JSON.parse(text);
}

/** Parses `Bearer a="b", c="d"` into `{a: 'b', c: 'd'}` (and fails on syntax errors). */
export function parseChallenge(header: string | null): Record<string, string> {
  if (!header) throw new Error('no WWW-Authenticate header');
  const m = /^Bearer (.*)$/.exec(header);
  if (!m?.[1]) throw new Error(`not a Bearer challenge: ${header}`);
  const out: Record<string, string> = {};
  const re = /\s*([a-z_]+)="((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let rest = m[1];
  let match: RegExpExecArray | null = re.exec(rest);
  while (match) {
    out[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
    if (re.lastIndex >= rest.length) break;
    match = re.exec(rest);
  }
  if (re.lastIndex !== rest.length) throw new Error(`bad challenge syntax: ${header}`);
  rest = '';
  return out;
}
