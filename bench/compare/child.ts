/**
 * What the two reference targets of bench/compare.ts share: their configuration (from the
 * environment the runner sets), the bearer check (jose against the test issuer's JWKS), the order
 * store (the server's own SQLite store on the runner's database file), the search/fetch tool
 * results built with the server's own helpers, and listening/shutdown.
 *
 * Environment: PORT, MCP_SERVER_URL (public URL: tool result URLs and token audiences), KC_ISSUER,
 * KC_JWKS_URL, ORDERS_DB.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { jsonResult, toolError } from '../../src/mcp/tools/result.js';
import { MAX_QUERY_LENGTH, SEARCH_LIMIT } from '../../src/mcp/tools/search.js';
import { orderMetadata, orderText, orderTitle, orderUrl } from '../../src/orders/present.js';
import { SqliteOrderStore } from '../../src/orders/sqlite.js';
import { asyncStore, type OrderStore, type Viewer } from '../../src/orders/types.js';

export interface ChildEnv {
  port: number;
  serverUrl: string;
  issuer: string;
  jwksUrl: string;
  ordersDb: string;
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (bench/compare.ts sets it)`);
  return v;
}

export function childEnv(): ChildEnv {
  return {
    port: Number(required('PORT')),
    serverUrl: required('MCP_SERVER_URL'),
    issuer: required('KC_ISSUER'),
    jwksUrl: required('KC_JWKS_URL'),
    ordersDb: required('ORDERS_DB'),
  };
}

/** Opened like `npm run serve` opens it (read-write, WAL), wrapped as the asynchronous store. */
export function openStore(env: ChildEnv): OrderStore {
  return asyncStore(SqliteOrderStore.open(env.ordersDb));
}

export class Unauthorized extends Error {}

export type Verifier = (authorization: string | undefined) => Promise<JWTPayload>;

/**
 * The same checks as the server's bearer pipeline: RS256 signature against the issuer's JWKS,
 * `iss`, `aud` (server URL or `/mcp`), `exp` with 30 s skew, required claims, access-token `typ`,
 * and the `mcp:tools` scope.
 */
export async function createVerifier(env: ChildEnv): Promise<Verifier> {
  const jwks = createRemoteJWKSet(new URL(env.jwksUrl));
  await jwks.reload();
  const options = {
    algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    issuer: env.issuer,
    audience: [env.serverUrl, `${env.serverUrl}/mcp`],
    clockTolerance: 30,
    requiredClaims: ['iss', 'aud', 'exp', 'sub'],
  };
  return async (authorization) => {
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
    if (!m?.[1]) throw new Unauthorized('no bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(m[1], jwks, options));
    } catch (err) {
      throw new Unauthorized((err as Error).message);
    }
    if (typeof payload.typ === 'string' && !['bearer', 'at+jwt'].includes(payload.typ.toLowerCase())) {
      throw new Unauthorized('not an access token');
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes('mcp:tools')) throw new Unauthorized('insufficient_scope');
    return payload;
  };
}

/** Staff (role `staff` or scope `orders:read:all`) see every order, customers their own. */
export function viewerOf(claims: JWTPayload): Viewer {
  const roles = (claims.realm_access as { roles?: unknown } | undefined)?.roles;
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if ((Array.isArray(roles) && roles.includes('staff')) || scopes.includes('orders:read:all')) {
    return { kind: 'all' };
  }
  const email = claims.email;
  if (typeof email === 'string' && email.includes('@'))
    return { kind: 'customer', email: email.toLowerCase() };
  return { kind: 'none' };
}

/** What the server's `search` tool returns (src/mcp/tools/search.ts). */
export async function searchTool(store: OrderStore, env: ChildEnv, query: string, viewer: Viewer) {
  const hits = await store.search(query, viewer, SEARCH_LIMIT);
  return jsonResult({
    results: hits.map((h) => ({ id: h.id, title: h.title, url: orderUrl(env.serverUrl, h.id) })),
  });
}

/** What the server's `fetch` tool returns (src/mcp/tools/fetch.ts). */
export async function fetchTool(store: OrderStore, env: ChildEnv, id: string, viewer: Viewer) {
  const order = await store.get(id.trim(), viewer);
  if (!order)
    return toolError(`No order with id "${id.slice(0, 200)}" was found among the orders you can see.`);
  return jsonResult({
    id: order.id,
    title: orderTitle(order),
    text: orderText(order),
    url: orderUrl(env.serverUrl, order.id),
    metadata: orderMetadata(order),
  });
}

export { MAX_QUERY_LENGTH };

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole body (up to {@link MAX_BODY_BYTES}); undefined when it is larger. */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function unauthorized(res: ServerResponse, env: ChildEnv): void {
  sendJson(
    res,
    401,
    { error: 'invalid_token' },
    {
      'www-authenticate': `Bearer resource_metadata="${env.serverUrl}/.well-known/oauth-protected-resource/mcp"`,
    },
  );
}

/**
 * Listens on 127.0.0.1:PORT (keep-alive like the server's), answers `/healthz`, and on
 * SIGINT/SIGTERM closes and exits 0 so that `--cpu-prof` writes its profile.
 */
export async function serve(env: ChildEnv, handler: RequestListener, close: () => Promise<void>) {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.url === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(env.port, '127.0.0.1', resolve));
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      server.close();
      server.closeAllConnections();
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
