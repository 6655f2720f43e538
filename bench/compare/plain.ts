/**
 * bench/compare.ts target `plain`: the floor. Plain `node:http` doing the same work as the
 * server per `tools/call` — jose bearer check, JSON-RPC body parse, the same store search and the
 * same tool result — and answering `application/json`, with no MCP SDK in the path.
 *
 * Started by bench/compare.ts (see child.ts for the environment).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  childEnv,
  createVerifier,
  fetchTool,
  MAX_QUERY_LENGTH,
  openStore,
  readBody,
  searchTool,
  sendJson,
  serve,
  Unauthorized,
  unauthorized,
  viewerOf,
} from './child.js';

const env = childEnv();
const store = openStore(env);
const verify = await createVerifier(env);

type Id = string | number | null;

function rpcError(res: ServerResponse, status: number, id: Id, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message } });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url !== '/mcp' && req.url !== '/') {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  if (req.method !== 'POST') {
    rpcError(res, 405, null, -32000, 'Method not allowed');
    return;
  }
  let claims: Awaited<ReturnType<typeof verify>>;
  try {
    claims = await verify(req.headers.authorization);
  } catch (err) {
    if (err instanceof Unauthorized) {
      unauthorized(res, env);
      return;
    }
    throw err;
  }
  if ((req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    rpcError(res, 415, null, -32000, 'Unsupported Media Type');
    return;
  }
  const raw = await readBody(req);
  if (!raw) {
    rpcError(res, 413, null, -32000, 'Request body too large');
    return;
  }
  let msg: { id?: Id; method?: unknown; params?: { name?: unknown; arguments?: Record<string, unknown> } };
  try {
    msg = JSON.parse(raw.toString('utf8'));
  } catch {
    rpcError(res, 400, null, -32700, 'Parse error');
    return;
  }
  const id = msg.id ?? null;
  if (msg.method !== 'tools/call') {
    rpcError(res, 200, id, -32601, 'Method not found');
    return;
  }
  const viewer = viewerOf(claims);
  const args = msg.params?.arguments ?? {};
  let result: unknown;
  if (msg.params?.name === 'search') {
    const query = args.query;
    if (typeof query !== 'string' || query.length > MAX_QUERY_LENGTH) {
      rpcError(res, 200, id, -32602, 'Invalid arguments for tool search');
      return;
    }
    result = await searchTool(store, env, query, viewer);
  } else if (msg.params?.name === 'fetch') {
    const orderId = args.id;
    if (typeof orderId !== 'string' || orderId.length < 1 || orderId.length > 200) {
      rpcError(res, 200, id, -32602, 'Invalid arguments for tool fetch');
      return;
    }
    result = await fetchTool(store, env, orderId, viewer);
  } else {
    rpcError(res, 200, id, -32602, 'Unknown tool');
    return;
  }
  sendJson(res, 200, { jsonrpc: '2.0', id, result });
}

await serve(
  env,
  (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) rpcError(res, 500, null, -32603, err.message);
      else res.destroy();
    });
  },
  () => store.close(),
);
