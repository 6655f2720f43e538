/**
 * bench/compare.ts target `sdk-stateless`: the MCP TypeScript SDK's documented stateless pattern.
 * `createMcpHandler(factory)` (default `legacy: 'stateless'`), a NEW `McpServer` per request from
 * the factory with `search` and `fetch` registered like the server's (same titles, descriptions,
 * zod input and output schemas, annotations, store calls and results), the same jose bearer check
 * in front, on plain `node:http`.
 *
 * `@modelcontextprotocol/node` (whose `toNodeHandler` the SDK docs name for node:http) is not
 * installed, so the node → web `Request` and web `Response` → node glue is written out below the
 * way such an adapter does it: headers copied, body read once, `handler.fetch(request, {authInfo})`
 * without a pre-parsed body, the response body streamed back.
 *
 * Started by bench/compare.ts (see child.ts for the environment).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthInfo, createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Viewer } from '../../src/orders/types.js';
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

const searchOutput = z.object({
  results: z.array(z.object({ id: z.string(), title: z.string(), url: z.string().url() })),
});
const fetchOutput = z.object({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  url: z.string().url(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
const annotations = {
  readOnlyHint: true,
  destructiveHint: false,
  openWorldHint: false,
  idempotentHint: true,
};

function viewerFrom(authInfo: AuthInfo | undefined): Viewer {
  return (authInfo?.extra?.viewer as Viewer | undefined) ?? { kind: 'none' };
}

function factory(): McpServer {
  const server = new McpServer(
    { name: 'sdk-stateless', title: 'Sample MCP: cupcake orders', version: '0.1.0' },
    {
      capabilities: { tools: { listChanged: false } },
      instructions:
        'Cupcake shop orders. Use `search` to find orders (by flavour, customer, status, notes or date) and ' +
        '`fetch` with a returned id for the full order. Users only see their own orders; staff see all.',
    },
  );
  server.registerTool(
    'search',
    {
      title: 'Search cupcake orders',
      description:
        'Search the cupcake orders you are allowed to see (your own; staff see all) by flavour, customer, ' +
        'status, date or notes. Returns up to 10 matches as {results:[{id,title,url}]}; pass an id to `fetch` ' +
        'for the full order. An empty query lists the most recent orders.',
      inputSchema: z.object({
        query: z.string().max(MAX_QUERY_LENGTH).describe('Words to look for, e.g. "chocolate birthday"'),
      }),
      outputSchema: searchOutput,
      annotations,
    },
    async ({ query }, ctx) => searchTool(store, env, query, viewerFrom(ctx.http?.authInfo)),
  );
  server.registerTool(
    'fetch',
    {
      title: 'Fetch a cupcake order',
      description:
        'Fetch one order by the id that `search` returned (e.g. "ord-100042"): customer, items, prices, ' +
        'status, dates and notes, as {id,title,text,url,metadata}.',
      inputSchema: z.object({
        id: z.string().min(1).max(200).describe('Order id from search, e.g. "ord-100042"'),
      }),
      outputSchema: fetchOutput,
      annotations,
    },
    async ({ id }, ctx) => fetchTool(store, env, id, viewerFrom(ctx.http?.authInfo)),
  );
  return server;
}

const handler = createMcpHandler(factory);

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url !== '/mcp' && req.url !== '/') {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  let authInfo: AuthInfo;
  try {
    const claims = await verify(req.headers.authorization);
    authInfo = {
      token: '[redacted]',
      clientId: typeof claims.azp === 'string' ? claims.azp : 'unknown',
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : [],
      expiresAt: claims.exp,
      extra: { viewer: viewerOf(claims) },
    };
  } catch (err) {
    if (err instanceof Unauthorized) {
      unauthorized(res, env);
      return;
    }
    throw err;
  }
  const method = req.method ?? 'GET';
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    body = await readBody(req);
    if (!body) {
      sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Too large' } });
      return;
    }
  }
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (!HOP_BY_HOP.has(name)) headers.append(name, req.rawHeaders[i + 1] as string);
  }
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method,
    headers,
    ...(body && body.length > 0 && { body: new Uint8Array(body) }),
  });
  const response = await handler.fetch(request, { authInfo });
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out);
  if (!response.body) {
    res.end();
    return;
  }
  for await (const chunk of response.body) {
    if (res.destroyed) break;
    res.write(chunk);
  }
  res.end();
}

await serve(
  env,
  (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
      else res.destroy();
    });
  },
  async () => {
    await handler.close();
    await store.close();
  },
);
