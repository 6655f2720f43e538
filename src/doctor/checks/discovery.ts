/**
 * Unauthenticated checks: the 401 challenge, protected-resource metadata at both paths, the
 * authorization server's metadata at every URL clients try, PKCE, registration, RFC 9207, CORS.
 */
import { type DoctorContext, INITIALIZE_REQUEST, parseBearerChallenge } from '../context.js';
import { NetworkError } from '../http.js';
import type { CheckResult } from '../types.js';

const PRM = '/.well-known/oauth-protected-resource';
const INIT = INITIALIZE_REQUEST;

function networkFail(id: string, title: string, err: unknown, fix: string): CheckResult {
  if (!(err instanceof NetworkError)) throw err;
  const tls = /certificate|TLS|self-signed|CA/.test(err.message);
  return {
    id,
    title,
    status: 'fail',
    cause: err.message,
    fix: tls
      ? 'TLS/host mismatch: make the certificate cover this host name and be issued by a CA the client trusts (see docs/troubleshooting.md#tls)'
      : fix,
  };
}

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
export async function checkAuthorizationServer(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.issuer) {
    return [
      {
        id: 'as-discovery',
        title: 'authorization server discovery',
        status: 'skip',
        detail: 'no issuer to check',
      },
    ];
  }
  const issuer = ctx.issuer;
  const u = new URL(issuer);
  const p = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  const urls = p
    ? [
        `${u.origin}/.well-known/oauth-authorization-server${p}`,
        `${u.origin}/.well-known/openid-configuration${p}`,
        `${u.origin}${p}/.well-known/openid-configuration`,
      ]
    : [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
  const seen: string[] = [];
  const wrong: string[] = [];
  for (const url of urls) {
    try {
      const res = await ctx.http.request('as-metadata', url, { headers: { accept: 'application/json' } });
      const meta = res.json as Record<string, unknown> | undefined;
      if (res.status === 200 && meta) {
        seen.push(url);
        if (meta.issuer !== issuer) wrong.push(`${url} says ${JSON.stringify(meta.issuer)}`);
        ctx.asMetadata ??= meta;
      } else {
        seen.push(`${url} → HTTP ${res.status}`);
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      return [
        networkFail(
          'as-discovery',
          `authorization server at ${issuer}`,
          err,
          'check KC_ISSUER is the public URL of the authorization server',
        ),
      ];
    }
  }
  const out: CheckResult[] = [];
  if (!ctx.asMetadata) {
    out.push({
      id: 'as-discovery',
      title: 'authorization server metadata',
      status: 'fail',
      detail: seen.join('; '),
      cause: '401 without prompt: no discovery URL answers for the issuer in the metadata',
      fix: 'set KC_ISSUER to the issuer your authorization server publishes (Keycloak: https://<host>/realms/<realm>)',
    });
    return out;
  }
  const ok = seen.filter((s) => !s.includes('→'));
  out.push({
    id: 'as-discovery',
    title: 'authorization server metadata at the URLs clients try',
    status: 'pass',
    detail: `${ok.length}/${urls.length} answer${ok.length < urls.length ? ` (${seen.filter((s) => s.includes('→')).join('; ')}; clients move on)` : ''}`,
  });
  out.push(
    wrong.length === 0
      ? {
          id: 'issuer-match',
          title: 'authorization_servers[0] equals the issuer byte for byte',
          status: 'pass',
          detail: issuer,
        }
      : {
          id: 'issuer-match',
          title: 'authorization_servers[0] equals the issuer byte for byte',
          status: 'fail',
          detail: wrong.join('; '),
          cause: `401 without prompt: the metadata names ${JSON.stringify(issuer)} but the authorization server calls itself something else; clients compare them exactly (trailing slash, scheme, port)`,
          fix: `set KC_ISSUER to ${JSON.stringify((ctx.asMetadata.issuer as string) ?? '')} exactly`,
        },
  );
  const meta = ctx.asMetadata;
  const methods = meta.code_challenge_methods_supported;
  out.push(
    Array.isArray(methods) && methods.includes('S256')
      ? {
          id: 'pkce',
          title: 'PKCE S256 supported',
          status: 'pass',
          detail: `code_challenge_methods_supported=${JSON.stringify(methods)}`,
        }
      : {
          id: 'pkce',
          title: 'PKCE S256 supported',
          status: 'fail',
          cause: 'clients refuse authorization servers that do not advertise S256',
          fix: 'enable PKCE S256 (Keycloak: a pkce-enforcer client policy; see docs/keycloak.md)',
        },
  );
  out.push(
    meta.authorization_response_iss_parameter_supported === true
      ? { id: 'rfc9207', title: 'RFC 9207 iss in authorization responses', status: 'pass' }
      : {
          id: 'rfc9207',
          title: 'RFC 9207 iss in authorization responses',
          status: 'fail',
          cause: 'without it ChatGPT uses per-connector redirect URIs and cannot check the response issuer',
          fix: 'enable authorization_response_iss_parameter_supported (Keycloak and the embedded server do)',
        },
  );
  const reg = meta.registration_endpoint;
  if (typeof reg !== 'string') {
    out.push({
      id: 'registration',
      title: 'dynamic client registration',
      status: 'fail',
      cause: 'no registration_endpoint: ChatGPT and Claude register themselves',
      fix: 'enable dynamic client registration (Keycloak: anonymous registration policies, see docs/keycloak.md), or pre-register the client',
    });
  } else if (ctx.options.register === false) {
    out.push({
      id: 'registration',
      title: 'dynamic client registration',
      status: 'skip',
      detail: `${reg} (trial registration skipped)`,
    });
  } else {
    try {
      const res = await ctx.http.request('registration', reg, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'sample-mcp doctor (ChatGPT-like trial registration)',
          redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      });
      const body = res.json as Record<string, unknown> | undefined;
      if (res.status === 201 && body?.client_id) {
        ctx.registration = {
          client_id: body.client_id,
          redirect_uris: body.redirect_uris,
          token_endpoint_auth_method: body.token_endpoint_auth_method,
        };
        out.push({
          id: 'registration',
          title: "trial registration with ChatGPT's redirect URI",
          status: 'pass',
          detail: `client_id=${String(body.client_id)}`,
        });
      } else {
        out.push({
          id: 'registration',
          title: "trial registration with ChatGPT's redirect URI",
          status: 'fail',
          detail: `HTTP ${res.status} ${String(body?.error ?? '')} ${String(body?.error_description ?? '').slice(0, 200)}`,
          cause: 'ChatGPT cannot register itself',
          fix: /Trusted Hosts/i.test(String(body?.error_description))
            ? "Keycloak: add chatgpt.com to the anonymous 'Trusted Hosts' registration policy (deploy/keycloak/mcp-realm.json)"
            : 'allow https://chatgpt.com/connector_platform_oauth_redirect in dynamic registration',
        });
      }
    } catch (err) {
      out.push(
        networkFail(
          'registration',
          'trial registration',
          err,
          'check the registration endpoint is reachable',
        ),
      );
    }
  }
  return out;
}

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
