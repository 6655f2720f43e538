/**
 * Unauthenticated checks: the 401 challenge, protected-resource metadata at both paths, CORS. The
 * authorization server's own checks are in ./authorizationServer/.
 */
import { networkFail } from '../check.js';
import { type DoctorContext, INITIALIZE_REQUEST, parseBearerChallenge } from '../context.js';
import type { CheckResult } from '../types.js';

const PRM = '/.well-known/oauth-protected-resource';
const INIT = INITIALIZE_REQUEST;

/** POST initialize without a token: must be 401 with a parseable Bearer challenge naming the metadata. */
export async function checkChallenge(ctx: DoctorContext): Promise<CheckResult[]> {
  const title = `401 challenge at ${ctx.url}`;
  let res: Awaited<ReturnType<typeof ctx.http.request>>;
  try {
    res = await ctx.http.request('challenge', ctx.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INIT),
    });
  } catch (err) {
    return [networkFail('challenge', title, err, 'start the server, and check the URL and DNS')];
  }
  if (res.status !== 401) {
    return [
      {
        id: 'challenge',
        title,
        status: 'fail',
        detail: `HTTP ${res.status}`,
        cause:
          res.status < 300
            ? 'the endpoint answers without a token: clients never start the OAuth flow'
            : `expected 401 for a request without a token, got ${res.status}`,
        fix:
          res.status === 404
            ? 'use the MCP endpoint URL (…/mcp), or check the proxy routes this path'
            : 'put the endpoint behind the bearer check (this server always is; a proxy may answer instead)',
      },
    ];
  }
  const header = res.headers.get('www-authenticate');
  if (!header) {
    return [
      {
        id: 'challenge',
        title,
        status: 'fail',
        detail: 'HTTP 401 without WWW-Authenticate',
        cause: '401 without prompt: without a WWW-Authenticate header clients cannot find the metadata',
        fix: 'return WWW-Authenticate: Bearer resource_metadata="…" on every 401 (check a proxy is not stripping it)',
      },
    ];
  }
  const params = parseBearerChallenge(header);
  if (!params) {
    return [
      {
        id: 'challenge',
        title,
        status: 'fail',
        detail: header.slice(0, 200),
        cause:
          'the WWW-Authenticate header is not valid Bearer challenge syntax (RFC 6750 / RFC 9110 auth-params)',
        fix: 'send Bearer resource_metadata="<absolute URL>", scope="…" with quoted values',
      },
    ];
  }
  ctx.challenge = params;
  const results: CheckResult[] = [];
  const rm = params.resource_metadata;
  if (!rm || !/^https?:\/\//.test(rm)) {
    results.push({
      id: 'challenge',
      title,
      status: 'fail',
      detail: header.slice(0, 200),
      cause: '401 without prompt: the challenge has no absolute resource_metadata URL',
      fix: `add resource_metadata="${ctx.origin}${PRM}${ctx.path}"`,
    });
  } else {
    results.push({ id: 'challenge', title, status: 'pass', detail: `resource_metadata=${rm}` });
  }
  results.push(
    params.scope
      ? {
          id: 'challenge-scope',
          title: 'challenge names the scope to request',
          status: 'pass',
          detail: `scope=${params.scope}`,
        }
      : {
          id: 'challenge-scope',
          title: 'challenge names the scope to request',
          status: 'fail',
          cause: 'without scope= clients request every advertised scope (and may get invalid_scope)',
          fix: 'add scope="mcp:tools" to the challenge',
        },
  );
  if (params.error) {
    results.push({
      id: 'challenge-error',
      title: 'no error code without a token',
      status: 'fail',
      detail: `error=${params.error}`,
      cause: 'RFC 6750 §3.1: a request without credentials gets a challenge without an error code',
      fix: 'drop error= from the no-token challenge',
    });
  }
  return results;
}

async function fetchPrm(
  ctx: DoctorContext,
  path: string,
): Promise<CheckResult & { doc?: Record<string, unknown> }> {
  const url = `${ctx.origin}${PRM}${path}`;
  const title = `metadata at ${PRM}${path}`;
  try {
    const res = await ctx.http.request(`prm${path.replaceAll('/', '-') || '-root'}`, url, {
      headers: { accept: 'application/json' },
    });
    const doc = res.json as Record<string, unknown> | undefined;
    if (res.status !== 200 || !doc || typeof doc !== 'object') {
      return {
        id: `prm${path.replaceAll('/', '-') || '-root'}`,
        title,
        status: 'fail',
        detail: `HTTP ${res.status}${doc ? '' : ', not JSON'}`,
        cause: '401 without prompt: clients try this URL to find the authorization server',
        fix: 'serve RFC 9728 metadata here, unauthenticated (mount it before any auth middleware in the proxy)',
      };
    }
    const expected = `${ctx.origin}${path}`;
    if (doc.resource !== expected) {
      return {
        id: `prm${path.replaceAll('/', '-') || '-root'}`,
        title,
        status: 'fail',
        detail: `resource=${JSON.stringify(doc.resource)}`,
        cause: `resource must equal ${expected} byte for byte (clients discard metadata whose resource differs from the URL they use)`,
        fix: 'set MCP_SERVER_URL to the public origin users paste, without a trailing slash',
        doc,
      };
    }
    return {
      id: `prm${path.replaceAll('/', '-') || '-root'}`,
      title,
      status: 'pass',
      detail: `resource=${expected}`,
      doc,
    };
  } catch (err) {
    return networkFail(
      `prm${path.replaceAll('/', '-') || '-root'}`,
      title,
      err,
      'check the server is reachable',
    );
  }
}

/** Metadata at the root and the path form; `resource` equals the URL; authorization_servers set. */
export async function checkMetadata(ctx: DoctorContext): Promise<CheckResult[]> {
  const paths = [...new Set(['', ctx.path || '/mcp'])];
  const results = await Promise.all(paths.map((p) => fetchPrm(ctx, p)));
  const mine = results.find((_r, i) => paths[i] === ctx.path) ?? results[0];
  ctx.prm = mine?.doc ?? results.find((r) => r.doc)?.doc;
  const out: CheckResult[] = results.map(({ doc: _doc, ...r }) => r);
  const servers = ctx.prm?.authorization_servers;
  if (Array.isArray(servers) && typeof servers[0] === 'string') {
    ctx.issuer = servers[0];
    out.push({
      id: 'prm-as',
      title: 'metadata names an authorization server',
      status: 'pass',
      detail: servers[0],
    });
  } else if (ctx.prm) {
    out.push({
      id: 'prm-as',
      title: 'metadata names an authorization server',
      status: 'fail',
      cause: 'authorization_servers is missing or empty',
      fix: 'set KC_ISSUER to your authorization server issuer',
    });
  }
  if (ctx.prm && ctx.challenge?.resource_metadata) {
    const expected = `${ctx.origin}${PRM}${ctx.path}`;
    if (ctx.challenge.resource_metadata !== expected) {
      out.push({
        id: 'challenge-metadata-url',
        title: 'the challenge points at the metadata for this URL',
        status: 'fail',
        detail: ctx.challenge.resource_metadata,
        cause: `expected ${expected}`,
        fix: 'set MCP_SERVER_URL to the public origin users paste (the proxy must pass the original Host)',
      });
    }
  }
  return out;
}

/** RFC 8414 and OIDC discovery at every URL a 2025-11-25 client tries; issuer byte-exact. */
/**
 * CORS: browser clients read the metadata (from any origin) and the 401 challenge. The challenge is
 * probed from the server's own origin, which is always allowed; whether a dev origin such as the
 * Inspector's is allowed is reported, not judged (production servers may refuse it).
 */
export async function checkCors(ctx: DoctorContext): Promise<CheckResult[]> {
  const inspector = 'http://localhost:6274';
  const title = 'CORS for browser clients';
  try {
    const pre = await ctx.http.request('cors-preflight', `${ctx.origin}${PRM}${ctx.path}`, {
      method: 'OPTIONS',
      headers: { origin: inspector, 'access-control-request-method': 'GET' },
    });
    const acao = pre.headers.get('access-control-allow-origin');
    const mcp = await ctx.http.request('cors-challenge', ctx.url, {
      method: 'POST',
      headers: {
        origin: ctx.origin,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(INIT),
    });
    const exposed = (mcp.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    const inspectorPre = await ctx.http.request('cors-inspector', ctx.url, {
      method: 'OPTIONS',
      headers: { origin: inspector, 'access-control-request-method': 'POST' },
    });
    const inspectorOk =
      inspectorPre.status < 300 && inspectorPre.headers.get('access-control-allow-origin') === inspector;
    const problems: string[] = [];
    if (pre.status >= 300 || (acao !== '*' && acao !== inspector)) {
      problems.push(
        `metadata preflight: HTTP ${pre.status}, Access-Control-Allow-Origin ${acao ?? 'missing'}`,
      );
    }
    if (mcp.status !== 401 || !exposed.includes('www-authenticate')) {
      problems.push(`the 401 from ${ctx.origin} does not expose WWW-Authenticate (HTTP ${mcp.status})`);
    }
    const note = `MCP Inspector origin ${inspectorOk ? 'allowed' : 'not allowed (set MCP_ALLOWED_ORIGINS to use it)'}`;
    return [
      problems.length === 0
        ? { id: 'cors', title, status: 'pass', detail: `metadata readable from any origin; ${note}` }
        : {
            id: 'cors',
            title,
            status: 'fail',
            detail: problems.join('; '),
            cause:
              'browser-based clients (MCP Inspector, web apps) cannot read the metadata or the challenge',
            fix: 'answer OPTIONS on the metadata with Access-Control-Allow-Origin: *, and expose WWW-Authenticate on the MCP endpoint (check the proxy does not drop these headers)',
          },
    ];
  } catch (err) {
    return [networkFail('cors', title, err, 'check the server is reachable')];
  }
}
