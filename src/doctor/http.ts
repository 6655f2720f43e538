/**
 * HTTP for the doctor: timeouts, no redirects followed unless asked, readable network errors, and
 * every exchange recorded for the evidence bundle with credentials masked.
 */
import type { Exchange } from './types.js';

export class NetworkError extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie']);

function headersOf(h: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = h instanceof Headers ? [...h.entries()] : Object.entries(h ?? {});
  for (const [k, v] of entries) out[k.toLowerCase()] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}

/** Explains a fetch failure: DNS, refused, TLS (certificate, host name), timeout. */
export function describeNetworkError(url: string, err: unknown): NetworkError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as Error).name ?? 'ERROR';
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const messages: Record<string, string> = {
    ENOTFOUND: `${host} does not resolve`,
    EAI_AGAIN: `${host} does not resolve (DNS unavailable)`,
    ECONNREFUSED: `nothing listens at ${host}`,
    ECONNRESET: `${host} closed the connection`,
    ERR_TLS_CERT_ALTNAME_INVALID: `the TLS certificate of ${host} does not cover that name`,
    DEPTH_ZERO_SELF_SIGNED_CERT: `${host} presents a self-signed certificate that is not trusted`,
    SELF_SIGNED_CERT_IN_CHAIN: `${host}'s certificate chain ends in an untrusted root`,
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: `${host}'s certificate cannot be verified (untrusted CA)`,
    CERT_HAS_EXPIRED: `${host}'s certificate has expired`,
    TimeoutError: `${host} did not answer in time`,
    UND_ERR_CONNECT_TIMEOUT: `${host} did not accept the connection in time`,
  };
  return new NetworkError(
    url,
    code,
    messages[code] ?? `${code}: ${cause?.message ?? (err as Error).message}`,
  );
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export class Http {
  readonly exchanges: Exchange[] = [];
  constructor(private readonly timeoutMs = 10_000) {}

  async request(
    name: string,
    url: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      redirect?: RequestRedirect;
    } = {},
  ): Promise<HttpResult> {
    const method = init.method ?? 'GET';
    const ex: Exchange = {
      name,
      request: { method, url, headers: headersOf(init.headers), body: maybeJson(init.body) },
    };
    this.exchanges.push(ex);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: init.headers,
        body: init.body,
        redirect: init.redirect ?? 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const ne = describeNetworkError(url, err);
      ex.error = ne.message;
      throw ne;
    }
    const text = await res.text();
    const json = maybeJson(text);
    ex.response = { status: res.status, headers: headersOf(res.headers), body: json ?? text.slice(0, 4000) };
    return { status: res.status, headers: res.headers, text, json };
  }
}

function maybeJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
