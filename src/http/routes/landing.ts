/**
 * The page a person sees when opening the server's URL in a browser: the URL to paste into
 * ChatGPT, live readiness checks (the doctor's checks of the authorization server, plus the
 * server's own keys and store), and how to connect each client. MCP clients never get it: they
 * send `Accept: application/json, text/event-stream` (and a token).
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config/config.js';
import { checkAuthorizationServer } from '../../doctor/checks/authorizationServer/index.js';
import { createContext } from '../../doctor/context.js';
import { Http } from '../../doctor/http.js';
import type { CheckResult } from '../../doctor/types.js';
import type { OrderStore } from '../../orders/types.js';
import { escapeHtml, htmlDocument, LOGO, sendHtml } from '../../web/html.js';
import type { Handler } from '../exchange.js';
import { type ReadinessDeps, readiness } from './ops.js';

/** A browser navigation to `/` (HTML wanted, no event stream, no credentials). */
export function wantsLandingPage(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return (
    req.method === 'GET' &&
    accept.includes('text/html') &&
    !accept.includes('text/event-stream') &&
    req.headers.authorization === undefined
  );
}

const CACHE_MS = 15_000;

const STYLE = `
:root{--ink:#1f1d2b;--muted:#5d5a6e;--brand:#c2185b;--line:#e4dfe8;--bg:#fbf6f9;--ok:#1b7f3b;--bad:#b00020}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:46rem;margin:2.5rem auto;padding:0 1rem}
header{display:flex;align-items:center;gap:.6rem;color:#8e0f42;font-weight:700}
h1{font-size:1.6rem;margin:.75rem 0 .25rem}h2{font-size:1.15rem;margin:0 0 .75rem}
p{color:var(--muted)}section{background:#fff;border:1px solid var(--line);border-radius:14px;padding:1.25rem 1.5rem;margin-top:1rem}
.url{display:flex;gap:.5rem;align-items:center;font:600 1.1rem ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4eef3;border-radius:10px;padding:.75rem 1rem;overflow-wrap:anywhere}
ul.checks{list-style:none;padding:0;margin:0}ul.checks li{padding:.45rem 0;border-top:1px solid var(--line)}ul.checks li:first-child{border-top:0}
.mark{display:inline-block;width:1.4rem;font-weight:700}.pass .mark{color:var(--ok)}.fail .mark{color:var(--bad)}.skip .mark{color:var(--muted)}
.detail,.why{margin-left:1.4rem;font-size:.9rem;color:var(--muted)}.why{color:var(--bad)}
.status{display:inline-block;border-radius:999px;padding:.15rem .7rem;font-size:.85rem;font-weight:600}
.status.ok{background:#e3f4e8;color:var(--ok)}.status.bad{background:#fdecee;color:var(--bad)}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4eef3;border-radius:4px;padding:0 .25rem}
ol{padding-left:1.2rem}li{margin:.2rem 0}.sr{position:absolute;left:-9999px}
`;

export interface LandingDeps extends ReadinessDeps {
  config: Config;
  store: Pick<OrderStore, 'isReady' | 'count'>;
}

export function landingRoute(deps: LandingDeps): Handler {
  const { config } = deps;
  let cached: { at: number; checks: CheckResult[] } | undefined;

  /** One check at a time: concurrent page views share it instead of each asking the AS. */
  let pending: Promise<CheckResult[]> | undefined;
  function checks(): Promise<CheckResult[]> {
    if (cached && Date.now() - cached.at < CACHE_MS) return Promise.resolve(cached.checks);
    pending ??= runChecks().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function runChecks(): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    const ready = await readiness(deps);
    const jwks = ready.checks.jwks;
    out.push(
      jwks.state === 'unavailable'
        ? {
            id: 'jwks',
            title: 'signing keys of the authorization server',
            status: 'fail',
            cause: jwks.error ?? 'not fetched yet',
            fix: 'check KC_ISSUER (or KC_JWKS_URL) is reachable from this server',
          }
        : {
            id: 'jwks',
            title: 'signing keys of the authorization server',
            status: 'pass',
            detail: `${jwks.keys} key(s)${jwks.state === 'degraded' ? ', cached: the server is unreachable right now' : ''}`,
          },
    );
    out.push(
      ready.checks.store.state === 'ready'
        ? { id: 'store', title: 'order store', status: 'pass', detail: `${await deps.store.count()} orders` }
        : {
            id: 'store',
            title: 'order store',
            status: 'fail',
            cause: 'the store does not answer',
            fix: 'check ORDERS_DB (SQLite) or DATABASE_URL (PostgreSQL)',
          },
    );
    const ctx = createContext({ url: config.serverUrl, register: false, timeoutMs: 3000 }, new Http(3000));
    ctx.issuer = config.issuer;
    out.push(...(await checkAuthorizationServer(ctx)));
    cached = { at: Date.now(), checks: out };
    return out;
  }

  return async ({ res }) => {
    const results = await checks();
    const ok = results.every((c) => c.status !== 'fail');
    const url = config.serverUrl;
    const items = results
      .map((c) => {
        const mark = c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–';
        const extra =
          c.status === 'fail'
            ? `<div class="why">${escapeHtml(c.cause ?? '')}<br><b>Fix:</b> ${escapeHtml(c.fix ?? '')}</div>`
            : c.detail
              ? `<div class="detail">${escapeHtml(c.detail)}</div>`
              : '';
        return `<li class="${c.status}"><span class="mark" aria-hidden="true">${mark}</span><span class="sr">${c.status === 'pass' ? 'passed' : c.status === 'fail' ? 'failed' : 'skipped'}:</span> ${escapeHtml(c.title)}${extra}</li>`;
      })
      .join('');
    const html = htmlDocument({
      title: 'Sample MCP · Cupcake Orders',
      style: STYLE,
      body: `<main>
<header>${LOGO}Sample MCP · Cupcake Orders</header>
<h1>This is an MCP server</h1>
<p>It lets ChatGPT, Claude, VS Code and other MCP clients search and read cupcake orders on behalf of a signed-in user.
Sign-in happens at <code>${escapeHtml(config.issuer)}</code>.</p>
<section aria-labelledby="connect"><h2 id="connect">URL to paste into your client</h2>
<div class="url" id="connector-url">${escapeHtml(url)}/mcp</div>
<p>ChatGPT also accepts the bare address <code>${escapeHtml(url)}</code>.</p></section>
<section aria-labelledby="ready"><h2 id="ready">Readiness <span class="status ${ok ? 'ok' : 'bad'}">${ok ? 'ready' : 'needs attention'}</span></h2>
<ul class="checks">${items}</ul>
<p>For the whole chain — TLS, the 401 challenge, a real login and tool calls — run
<code>npx sample-mcp doctor ${escapeHtml(url)}/mcp</code> from your machine.</p></section>
<section aria-labelledby="clients"><h2 id="clients">Connect a client</h2>
<ol>
<li><b>ChatGPT</b>: Settings → Apps &amp; Connectors → Advanced → turn on Developer mode; then Create (or Add connector), paste the URL above, choose OAuth, and sign in. ChatGPT's servers must reach this URL over public https.</li>
<li><b>Claude</b>: Settings → Connectors → Add custom connector, paste the URL, then Connect and sign in (public https on port 443).</li>
<li><b>VS Code</b>: Command Palette → “MCP: Add Server…” → HTTP, paste the URL; VS Code opens the sign-in page.</li>
<li><b>MCP Inspector</b>: <code>npx @modelcontextprotocol/inspector</code>, transport Streamable HTTP, the URL above.</li>
</ol>
<p>Metadata for clients: <a href="${escapeHtml(url)}/.well-known/oauth-protected-resource/mcp">${escapeHtml(url)}/.well-known/oauth-protected-resource/mcp</a></p></section>
</main>`,
    });
    sendHtml(res, 200, html);
  };
}
