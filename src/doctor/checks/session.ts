/**
 * Authenticated checks: get a token (given, password grant with a test client, or the embedded
 * server's login form), check its `iss` and `aud`, then `tools/list`, a search and a fetch over MCP.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { MCP_SCOPE } from '../../auth/scopes.js';
import { obtainToken } from '../../idp/client.js';
import { check } from '../check.js';
import { type DoctorContext, INITIALIZE_REQUEST, parseBearerChallenge } from '../context.js';
import { NetworkError } from '../http.js';
import type { CheckResult } from '../types.js';

/** Tokens never go into the evidence: blank them in a recorded token response. */
function redactTokens(body: unknown): void {
  if (!body || typeof body !== 'object') return;
  for (const k of ['access_token', 'refresh_token', 'id_token']) {
    if (k in body) (body as Record<string, unknown>)[k] = '[redacted]';
  }
}

async function getToken(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'sign in and get an access token';
  const options = ctx.options;
  if (options.token) {
    ctx.token = options.token;
    return { id: 'login', title, status: 'pass', detail: 'token given (--token / DOCTOR_TOKEN)' };
  }
  if (!options.user || !options.password) {
    return {
      id: 'login',
      title,
      status: 'skip',
      detail: 'no credentials: pass --user and --password (and --client-id for Keycloak) for the full check',
    };
  }
  const tokenEndpoint = ctx.asMetadata?.token_endpoint;
  if (typeof tokenEndpoint !== 'string' || !ctx.issuer) {
    return {
      id: 'login',
      title,
      status: 'fail',
      cause: 'the authorization server metadata has no token endpoint',
      fix: 'fix the discovery checks above first',
    };
  }
  const resource = typeof ctx.prm?.resource === 'string' ? ctx.prm.resource : ctx.url;
  try {
    if (options.clientId) {
      const res = await ctx.http.request('token', tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: options.clientId,
          ...(options.clientSecret && { client_secret: options.clientSecret }),
          username: options.user,
          password: options.password,
          scope: ctx.challenge?.scope ?? MCP_SCOPE,
          resource,
        }).toString(),
      });
      const body = res.json as Record<string, unknown> | undefined;
      if (res.status !== 200 || typeof body?.access_token !== 'string') {
        return {
          id: 'login',
          title,
          status: 'fail',
          detail: `HTTP ${res.status} ${String(body?.error ?? '')}: ${String(body?.error_description ?? '')}`,
          cause: 'the password grant was refused',
          fix: 'check the user, password and test client (direct access grants enabled for it)',
        };
      }
      ctx.token = body.access_token;
      redactTokens(ctx.http.exchanges.at(-1)?.response?.body);
      return {
        id: 'login',
        title,
        status: 'pass',
        detail: `password grant as ${options.user} with client ${options.clientId}`,
      };
    }
    const tokens = await obtainToken({
      issuer: ctx.issuer,
      resource,
      email: options.user,
      password: options.password,
      scope: ctx.challenge?.scope,
    });
    ctx.token = tokens.access_token;
    return {
      id: 'login',
      title,
      status: 'pass',
      detail: `authorization code + PKCE through the login form as ${options.user}`,
    };
  } catch (err) {
    return {
      id: 'login',
      title,
      status: 'fail',
      cause: (err as Error).message,
      fix: options.clientId
        ? 'check the credentials'
        : 'without --client-id the doctor signs in through the embedded server’s login form; for Keycloak pass --client-id/--client-secret of a test client',
    };
  }
}

function checkTokenClaims(ctx: DoctorContext): CheckResult[] {
  if (!ctx.token) return [];
  let claims: Record<string, unknown>;
  try {
    ctx.tokenHeader = decodeProtectedHeader(ctx.token) as Record<string, unknown>;
    claims = decodeJwt(ctx.token) as Record<string, unknown>;
    ctx.tokenClaims = claims;
  } catch {
    return [
      {
        id: 'token',
        title: 'the access token is a JWT',
        status: 'fail',
        cause: 'the token is not a JWT',
        fix: 'configure the authorization server to issue JWT access tokens (RFC 9068)',
      },
    ];
  }
  const aud = Array.isArray(claims.aud) ? (claims.aud as string[]) : claims.aud ? [String(claims.aud)] : [];
  const accepted = ctx.acceptedAudiences;
  const out: CheckResult[] = [];
  out.push(
    claims.iss === ctx.issuer
      ? { id: 'token-iss', title: 'token iss equals the issuer', status: 'pass', detail: String(claims.iss) }
      : {
          id: 'token-iss',
          title: 'token iss equals the issuer',
          status: 'fail',
          detail: `iss=${JSON.stringify(claims.iss)}`,
          cause: 'the token was issued under another name (Keycloak reached by another host name?)',
          fix: 'give Keycloak a fixed public hostname (KC_HOSTNAME) and get tokens through it',
        },
  );
  out.push(
    aud.some((a) => accepted.includes(a))
      ? {
          id: 'token-aud',
          title: `token aud matches MCP_AUDIENCE (${ctx.expectedAudience})`,
          status: 'pass',
          detail: `aud=${JSON.stringify(claims.aud)}`,
        }
      : {
          id: 'token-aud',
          title: `token aud matches MCP_AUDIENCE (${ctx.expectedAudience})`,
          status: 'fail',
          detail: `aud=${JSON.stringify(claims.aud ?? null)}`,
          cause: 'audience mismatch: the server refuses tokens not meant for it',
          fix: `make the authorization server put ${ctx.expectedAudience} into aud (Keycloak: the audience mapper in the 'basic' client scope, docs/keycloak.md), or set MCP_AUDIENCE/MCP_ALT_AUDIENCE to the audience it issues`,
        },
  );
  return out;
}

/** One JSON-RPC exchange over Streamable HTTP (JSON or single-event SSE answer). */
async function rpc(
  ctx: DoctorContext,
  name: string,
  body: Record<string, unknown>,
  session?: string,
): Promise<{
  status: number;
  message?: Record<string, unknown>;
  session?: string;
  challenge?: Record<string, string>;
}> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${ctx.token}`,
  };
  if (ctx.protocolVersion) headers['mcp-protocol-version'] = ctx.protocolVersion;
  if (session) headers['mcp-session-id'] = session;
  const res = await ctx.http.request(name, ctx.url, { method: 'POST', headers, body: JSON.stringify(body) });
  let message = res.json as Record<string, unknown> | undefined;
  if (!message && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = res.text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim())
      .find((l) => l.startsWith('{'));
    message = data ? (JSON.parse(data) as Record<string, unknown>) : undefined;
    const ex = ctx.http.exchanges.at(-1);
    if (ex?.response && message) ex.response.body = message;
  }
  const www = res.headers.get('www-authenticate');
  return {
    status: res.status,
    message,
    session: res.headers.get('mcp-session-id') ?? session,
    challenge: www ? parseBearerChallenge(www) : undefined,
  };
}

/** A refused MCP request, explained by its status and the challenge's error description. */
function refusal(id: string, title: string, r: Awaited<ReturnType<typeof rpc>>): CheckResult {
  const c = check(id, title);
  const desc = r.challenge?.error_description ?? '';
  if (r.status === 401) {
    const aud = /audience/i.test(desc);
    const iss = /issuer/i.test(desc);
    return c.fail(
      aud ? 'audience mismatch' : iss ? 'issuer mismatch' : 'the server refused the token',
      aud
        ? 'set MCP_AUDIENCE to what the authorization server puts into aud, or add the audience mapper (docs/keycloak.md)'
        : iss
          ? 'KC_ISSUER must equal the token iss byte for byte'
          : 'see the server log line for this request (authFailure)',
      `HTTP 401 ${r.challenge?.error ?? ''}: ${desc}`,
    );
  }
  if (r.status === 403) {
    return c.fail(
      `the token lacks the scope ${r.challenge?.scope ?? MCP_SCOPE}`,
      'request the scope, or make it a default scope of the client (Keycloak: realm default client scopes)',
      `HTTP 403 ${r.challenge?.error ?? ''}: ${desc}`,
    );
  }
  return c.fail(
    'the MCP request failed',
    'see the server log',
    `HTTP ${r.status} ${JSON.stringify(r.message?.error ?? '')}`,
  );
}

/** A tool result that is not the connector contract's one text item with JSON. */
function contractFail(
  id: string,
  title: string,
  r: Awaited<ReturnType<typeof rpc>>,
  what: string,
): CheckResult {
  return check(id, title).fail(
    `"spec not implemented": ${what} must return exactly one text item with that JSON`,
    'follow the connector contract (docs/clients.md)',
    JSON.stringify(r.message?.result ?? r.message?.error).slice(0, 200),
  );
}

function textJson(result: unknown): unknown {
  const r = result as { content?: { type?: string; text?: string }[] } | undefined;
  if (r?.content?.length !== 1 || r.content[0]?.type !== 'text') return undefined;
  try {
    return JSON.parse(r.content[0].text ?? '');
  } catch {
    return undefined;
  }
}

const TOOLS = check('tools-list', 'tools/list shows search and fetch, read-only');
const SEARCH = 'search returns {"results":[{id,title,url}]}';
const FETCH = 'fetch returns {id,title,text,url,metadata}';

type Tool = { name: string; annotations?: Record<string, unknown> };

/** initialize (a session when the server opens one), then tools/list: search and fetch, read-only. */
async function checkToolList(
  ctx: DoctorContext,
): Promise<{ result: CheckResult; session?: string; ok: boolean }> {
  const init = await rpc(ctx, 'mcp-initialize', INITIALIZE_REQUEST);
  if (init.status !== 200 || !init.message?.result) {
    return { result: refusal('tools-list', 'MCP initialize with the token', init), ok: false };
  }
  ctx.protocolVersion = String(
    (init.message.result as Record<string, unknown>).protocolVersion ?? '2025-11-25',
  );
  const session = init.session;
  if (session)
    await rpc(ctx, 'mcp-initialized', { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const list = await rpc(ctx, 'mcp-tools-list', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, session);
  if (list.status !== 200 || !list.message?.result) {
    return { result: refusal('tools-list', 'tools/list', list), ok: false };
  }
  const tools = ((list.message.result as Record<string, unknown>).tools ?? []) as Tool[];
  ctx.tools = tools;
  const missing = ['search', 'fetch'].filter((n) => !tools.some((t) => t.name === n));
  const notReadOnly = tools
    .filter((t) => ['search', 'fetch'].includes(t.name) && t.annotations?.readOnlyHint !== true)
    .map((t) => t.name);
  const names = tools.map((t) => t.name).join(', ');
  const result =
    missing.length === 0 && notReadOnly.length === 0
      ? TOOLS.pass(names)
      : TOOLS.fail(
          missing.length
            ? `"spec not implemented": ChatGPT connectors need tools named search and fetch (missing: ${missing.join(', ')})`
            : `${notReadOnly.join(', ')} lack readOnlyHint: ChatGPT treats them as write actions`,
          'expose search({query}) and fetch({id}) with annotations.readOnlyHint = true',
          `tools: ${names || 'none'}`,
        );
  return { result, ...(session && { session }), ok: missing.length === 0 };
}

/** search({query}) answers the connector contract; returns the first hit's id for fetch. */
async function checkSearch(
  ctx: DoctorContext,
  session: string | undefined,
): Promise<{ result: CheckResult; first?: string }> {
  const query = ctx.options.query ?? '';
  const s = await rpc(
    ctx,
    'mcp-search',
    { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'search', arguments: { query } } },
    session,
  );
  const sr = textJson(s.message?.result) as
    | { results?: { id?: unknown; title?: unknown; url?: unknown }[] }
    | undefined;
  ctx.searchResult = s.message?.result;
  const results = sr?.results;
  const shapeOk =
    Array.isArray(results) &&
    results.every(
      (r) => typeof r.id === 'string' && typeof r.title === 'string' && typeof r.url === 'string',
    );
  if (s.status !== 200) return { result: refusal('search', SEARCH, s) };
  if (!shapeOk) return { result: contractFail('search', SEARCH, s, 'search') };
  const first = results[0]?.id as string | undefined;
  return {
    result: check('search', SEARCH).pass(`${results.length} results for ${JSON.stringify(query)}`),
    ...(first !== undefined && { first }),
  };
}

/** fetch({id}) of the first hit answers the connector contract. */
async function checkFetch(ctx: DoctorContext, session: string | undefined, id: string): Promise<CheckResult> {
  const f = await rpc(
    ctx,
    'mcp-fetch',
    { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'fetch', arguments: { id } } },
    session,
  );
  const fr = textJson(f.message?.result) as Record<string, unknown> | undefined;
  ctx.fetchResult = f.message?.result;
  if (f.status !== 200) return refusal('fetch', FETCH, f);
  if (!fr || !['id', 'title', 'text', 'url'].every((k) => typeof fr[k] === 'string')) {
    return contractFail('fetch', FETCH, f, 'fetch');
  }
  return check('fetch', FETCH).pass(String(fr.id));
}

async function checkTools(ctx: DoctorContext): Promise<CheckResult[]> {
  const list = await checkToolList(ctx);
  if (!list.ok) return [list.result];
  const search = await checkSearch(ctx, list.session);
  if (search.result.status !== 'pass') return [list.result, search.result];
  if (search.first === undefined) {
    return [
      list.result,
      search.result,
      check('fetch', FETCH).skip('search found nothing to fetch (this user has no orders?)'),
    ];
  }
  return [list.result, search.result, await checkFetch(ctx, list.session, search.first)];
}

export async function checkSession(ctx: DoctorContext): Promise<CheckResult[]> {
  const login = await getToken(ctx);
  if (login.status !== 'pass') {
    const skipped = ['token-aud', 'tools-list', 'search', 'fetch'].map(
      (id): CheckResult => ({ id, title: `${id} (needs a token)`, status: 'skip', detail: 'no token' }),
    );
    return [login, ...skipped];
  }
  const out = [login, ...checkTokenClaims(ctx)];
  try {
    out.push(...(await checkTools(ctx)));
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    out.push({
      id: 'tools-list',
      title: 'MCP calls with the token',
      status: 'fail',
      cause: err.message,
      fix: 'check the server is reachable',
    });
  }
  return out;
}
