/**
 * HTML of the embedded authorization server: login, consent and error pages. Server-rendered,
 * no scripts, no external resources; labelled fields, an error summary announced to screen
 * readers, and visible focus.
 */
import { escapeHtml, htmlDocument, LOGO } from '../web/html.js';

const STYLE = `
:root{--ink:#1f1d2b;--muted:#5d5a6e;--brand:#c2185b;--brand-dark:#8e0f42;--line:#e4dfe8;--bg:#fbf6f9;--err:#b00020}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);
  color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:26rem;margin:2rem 1rem;background:#fff;border:1px solid var(--line);border-radius:16px;
  box-shadow:0 10px 30px rgba(80,20,60,.08);padding:2rem 2rem 1.5rem}
.brand{display:flex;align-items:center;gap:.6rem;font-weight:700;letter-spacing:.01em;color:var(--brand-dark);margin-bottom:1.25rem}
.brand svg{flex:none}
h1{font-size:1.35rem;margin:0 0 .35rem}
p{margin:.25rem 0 1rem;color:var(--muted)}
label{display:block;font-weight:600;margin:1rem 0 .35rem}
input[type=email],input[type=password]{width:100%;padding:.7rem .8rem;font:inherit;border:1px solid #c9c2d0;border-radius:10px}
input:focus-visible,button:focus-visible{outline:3px solid #f48fb1;outline-offset:2px;border-color:var(--brand)}
button{font:inherit;font-weight:600;border-radius:10px;padding:.75rem 1rem;cursor:pointer;border:1px solid transparent}
.primary{width:100%;margin-top:1.5rem;background:var(--brand);color:#fff}
.primary:hover{background:var(--brand-dark)}
.secondary{background:#fff;color:var(--ink);border-color:#c9c2d0}
.row{display:flex;gap:.75rem;margin-top:1.5rem}.row button{flex:1}
.error{border:1px solid #f1b0b7;background:#fdecee;color:var(--err);border-radius:10px;padding:.7rem .9rem;margin:1rem 0 0}
.client{display:flex;align-items:center;gap:.75rem;padding:.8rem .9rem;border:1px solid var(--line);border-radius:12px;margin:1rem 0}
.client strong{display:block}.client small{color:var(--muted)}
ul.scopes{list-style:none;padding:0;margin:.5rem 0 0}
ul.scopes li{padding:.55rem 0;border-top:1px solid var(--line)}
ul.scopes li:first-child{border-top:0}
ul.scopes b{display:block}ul.scopes span{color:var(--muted);font-size:.92rem}
.hint{font-size:.85rem;color:var(--muted);margin-top:1.25rem;border-top:1px solid var(--line);padding-top:.9rem}
code{font-size:.9em;background:#f4eef3;border-radius:4px;padding:0 .25rem}
`;

function layout(title: string, body: string): string {
  return htmlDocument({
    title: `${title} · Sample MCP`,
    style: STYLE,
    noReferrer: true,
    body: `<main><div class="brand">${LOGO}<span>Sample MCP · Cupcake Orders</span></div>${body}</main>`,
  });
}

function errorBox(error: string | undefined): string {
  return error ? `<div class="error" role="alert" id="form-error">${escapeHtml(error)}</div>` : '';
}

export interface LoginView {
  action: string;
  csrf: string;
  clientName: string;
  email: string;
  error: string | undefined;
  devHint: boolean;
}

export function loginPage(v: LoginView): string {
  const described = v.error ? ' aria-describedby="form-error" aria-invalid="true"' : '';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(v.clientName)}</strong></p>
${errorBox(v.error)}
<form method="post" action="${escapeHtml(v.action)}" novalidate>
  <input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
  <label for="email">E-mail</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(v.email)}"${described}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${described}>
  <button class="primary" type="submit">Sign in</button>
</form>
${
  v.devHint
    ? `<p class="hint">Development accounts: <code>alice@example.com</code>, <code>bob@example.com</code> (customers) and
<code>carol@example.com</code> (staff). Their passwords are in the README.</p>`
    : ''
}`,
  );
}

export interface ScopeView {
  name: string;
  description: string;
}

export interface ConsentView {
  action: string;
  csrf: string;
  clientName: string;
  clientHost: string;
  userEmail: string;
  scopes: ScopeView[];
  resource: string | undefined;
}

export function consentPage(v: ConsentView): string {
  const items = v.scopes
    .map((s) => `<li><b>${escapeHtml(s.description)}</b><span><code>${escapeHtml(s.name)}</code></span></li>`)
    .join('');
  return layout(
    'Allow access',
    `<h1>Allow access?</h1>
<p>Signed in as <strong>${escapeHtml(v.userEmail)}</strong></p>
<div class="client"><div><strong>${escapeHtml(v.clientName)}</strong><small>will be sent back to ${escapeHtml(v.clientHost)}</small></div></div>
<p>It asks to:</p>
<ul class="scopes">${items}</ul>
${v.resource ? `<p class="hint">For the MCP server <code>${escapeHtml(v.resource)}</code>.</p>` : ''}
<form method="post" action="${escapeHtml(v.action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
  <div class="row">
    <button class="secondary" type="submit" name="decision" value="deny">Deny</button>
    <button class="primary" style="margin-top:0" type="submit" name="decision" value="allow">Allow</button>
  </div>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><div class="error" role="alert">${escapeHtml(message)}</div>`,
  );
}
