/**
 * Transport checks: https with a certificate that covers the host and chains to a trusted CA, and
 * plain http redirecting to https. ChatGPT and Claude only connect to https URLs.
 */
import { connect, type PeerCertificate } from 'node:tls';
import { isLocalhostName } from '../../web/loopback.js';
import type { DoctorContext } from '../context.js';
import { describeNetworkError, NetworkError } from '../http.js';
import type { CheckResult } from '../types.js';

function tlsProbe(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ authorized: boolean; error?: string; cert: PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host, port, servername: host, rejectUnauthorized: false, timeout: timeoutMs },
      () => {
        const cert = socket.getPeerCertificate();
        const authorized = socket.authorized;
        const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
        socket.end();
        resolve({ authorized, error, cert });
      },
    );
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timeout'));
    });
    socket.once('error', reject);
  });
}

export async function checkTls(ctx: DoctorContext): Promise<CheckResult[]> {
  const u = new URL(ctx.url);
  const title = `TLS certificate covers ${u.hostname}`;
  if (u.protocol === 'http:') {
    if (isLocalhostName(u.hostname)) {
      return [
        {
          id: 'tls',
          title: 'https',
          status: 'skip',
          detail: 'plain http on localhost: fine for local clients, not reachable by ChatGPT or Claude',
        },
      ];
    }
    return [
      {
        id: 'tls',
        title: 'https',
        status: 'fail',
        detail: ctx.url,
        cause:
          'the MCP URL is plain http: ChatGPT and Claude only connect over https, and tokens would travel in clear text',
        fix: 'put a TLS-terminating proxy in front (docs/compose.md, docs/caddy.md) and use the https URL as MCP_SERVER_URL',
      },
    ];
  }
  const port = Number(u.port || 443);
  try {
    const { authorized, error, cert } = await tlsProbe(u.hostname, port, ctx.options.timeoutMs ?? 10_000);
    const names = String(cert.subjectaltname ?? '');
    const expires = cert.valid_to ? new Date(cert.valid_to) : undefined;
    if (!authorized) {
      const hostMismatch = /altname|hostname|ERR_TLS_CERT_ALTNAME_INVALID/i.test(error ?? '');
      return [
        {
          id: 'tls',
          title,
          status: 'fail',
          detail: `${error}; certificate for ${names || cert.subject?.CN}`,
          cause: hostMismatch
            ? `TLS/host mismatch: the certificate does not cover ${u.hostname}`
            : `the certificate is not trusted here (${error})`,
          fix: hostMismatch
            ? `issue the certificate for ${u.hostname} (mkcert ${u.hostname} …; Traefik/Caddy must serve it for this name)`
            : 'use a certificate from a public CA for internet clients; for local tests trust the local CA (mkcert -install, NODE_EXTRA_CA_CERTS)',
        },
      ];
    }
    // Short-lived certificates (Caddy's local CA issues 12-hour ones) are renewed automatically;
    // only an expired or nearly expired one is a problem.
    if (expires && expires.getTime() < Date.now() + 3600_000) {
      return [
        {
          id: 'tls',
          title,
          status: 'fail',
          detail: `expires ${expires.toISOString()}`,
          cause: 'the certificate has expired or expires within the hour',
          fix: 'renew it (check the proxy can reach its CA or ACME server)',
        },
      ];
    }
    return [
      {
        id: 'tls',
        title,
        status: 'pass',
        detail: `${names}${expires ? `, valid until ${expires.toISOString().slice(0, 10)}` : ''}`,
      },
    ];
  } catch (err) {
    const ne = describeNetworkError(ctx.url, err);
    return [
      {
        id: 'tls',
        title,
        status: 'fail',
        cause: ne.message,
        fix: 'check the TLS port is open and served by your proxy',
      },
    ];
  }
}

export async function checkHttpRedirect(ctx: DoctorContext): Promise<CheckResult[]> {
  const u = new URL(ctx.url);
  const title = 'http:// redirects to https://';
  if (u.protocol !== 'https:')
    return [{ id: 'http-redirect', title, status: 'skip', detail: 'the URL is not https' }];
  const httpUrl = `http://${u.hostname}${ctx.path || '/'}`;
  try {
    const res = await ctx.http.request('http-redirect', httpUrl);
    const location = res.headers.get('location') ?? '';
    if ([301, 302, 307, 308].includes(res.status) && location.startsWith(`https://${u.hostname}`)) {
      return [{ id: 'http-redirect', title, status: 'pass', detail: `HTTP ${res.status} → ${location}` }];
    }
    return [
      {
        id: 'http-redirect',
        title,
        status: 'fail',
        detail: `HTTP ${res.status}${location ? ` → ${location}` : ''}`,
        cause:
          'plain http is served instead of redirected: a pasted http:// URL would send tokens in clear text',
        fix: 'redirect port 80 to https (Traefik: entrypoints.web.http.redirections; Caddy does it by default)',
      },
    ];
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    if (err.code === 'ECONNREFUSED') {
      return [
        {
          id: 'http-redirect',
          title,
          status: 'pass',
          detail: 'port 80 closed: nothing is served over plain http',
        },
      ];
    }
    return [
      { id: 'http-redirect', title, status: 'fail', cause: err.message, fix: 'redirect port 80 to https' },
    ];
  }
}
