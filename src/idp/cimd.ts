/**
 * Client ID Metadata Documents (MCP 2026-07-28, draft-ietf-oauth-client-id-metadata-document):
 * a `client_id` that is an https URL names a JSON document the authorization server fetches.
 * oidc-provider implements the protocol (`features.clientIdMetadataDocument`); this module is the
 * fetch policy around it, because fetching a URL a stranger chose is an SSRF surface:
 *
 * - https only, and only from allowed hosts: {@link DEFAULT_CIMD_HOSTS} plus `IDP_CIMD_TRUSTED_HOSTS`;
 * - a default-list host must not resolve to a private, loopback or link-local address
 *   (oidc-provider's special-use address guard stays on for it); a host the operator lists may
 *   (an internal client on a private network);
 * - no redirects, at most {@link MAX_DOCUMENT_BYTES}, 2.5 s (oidc-provider's timeout), the
 *   document's `client_id` equal to the URL byte for byte, `client_name` and `redirect_uris` present;
 * - a document that failed is not fetched again for {@link NEGATIVE_CACHE_MS} (a broken or hostile
 *   document costs one fetch per minute, not one per request); good ones are cached as their
 *   `Cache-Control` says, within oidc-provider's `cacheDuration` bounds.
 *
 * The same policy covers every other outgoing request oidc-provider makes, in particular the
 * `jwks_uri` of a `private_key_jwt` client (ChatGPT's document names one on chatgpt.com).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { evictOldest } from '../web/maps.js';

/** The hosts of the clients people use: ChatGPT, Claude, VS Code. */
export const DEFAULT_CIMD_HOSTS: readonly string[] = [
  'chatgpt.com',
  'claude.ai',
  'claude.com',
  'vscode.dev',
  'insiders.vscode.dev',
];

export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const NEGATIVE_CACHE_MS = 60_000;

export interface CimdPolicyOptions {
  /** Hosts the operator trusts besides the defaults (`IDP_CIMD_TRUSTED_HOSTS`); may be private. */
  trustedHosts: readonly string[];
  /** Called once per refused or failed document, for the log. */
  onRefused?: (url: string, reason: string) => void;
  now?: () => number;
}

type FetchOptions = RequestInit & { dispatcher?: unknown };

export interface CimdPolicy {
  /** `features.clientIdMetadataDocument.allowFetch`: may this client_id URL be fetched now? */
  allowFetch(ctx: KoaContextWithOIDC, url: string): Promise<boolean>;
  /** oidc-provider's `fetch`: every outgoing request of the provider goes through it. */
  fetch(url: string | URL, options: FetchOptions): Promise<Response>;
  /** The host a client_id URL names, for the consent screen (`undefined` for other client ids). */
  documentHost(clientId: string): string | undefined;
}

export class CimdFetchRefused extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`client metadata fetch refused (${reason}): ${url}`);
    this.name = 'CimdFetchRefused';
  }
}

function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' ? u.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export function createCimdPolicy(options: CimdPolicyOptions): CimdPolicy {
  const now = options.now ?? Date.now;
  const trusted = new Set(options.trustedHosts.map((h) => h.toLowerCase()));
  const defaults = new Set(DEFAULT_CIMD_HOSTS);
  const failedUntil = new Map<string, number>();
  /** client_id URLs allowed by `allowFetch` whose document fetch has not happened yet. */
  const documents = new Set<string>();

  /** Remembers a refusal for NEGATIVE_CACHE_MS; says so (once per period) through `onRefused`. */
  const remember = (url: string, reason: string): void => {
    const until = failedUntil.get(url);
    if (until !== undefined && until > now()) return;
    failedUntil.set(url, now() + NEGATIVE_CACHE_MS);
    evictOldest(failedUntil, 10_000);
    options.onRefused?.(url, reason);
  };
  const refuse = (url: string, reason: string): never => {
    failedUntil.delete(url);
    remember(url, reason);
    throw new CimdFetchRefused(url, reason);
  };

  const allowedHost = (host: string | undefined) =>
    host !== undefined && (defaults.has(host) || trusted.has(host));

  /** Reads at most MAX_DOCUMENT_BYTES and checks what the draft requires of the document. */
  async function checkDocument(url: string, response: Response): Promise<Response> {
    if (response.status !== 200) {
      await response.body?.cancel();
      return refuse(url, `HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > MAX_DOCUMENT_BYTES) {
      await response.body?.cancel();
      return refuse(url, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > MAX_DOCUMENT_BYTES) return refuse(url, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
      chunks.push(chunk as Uint8Array);
    }
    const body = Buffer.concat(chunks);
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(url, 'not JSON');
    }
    const d = doc as Record<string, unknown> | null;
    if (!d || typeof d !== 'object' || Array.isArray(d)) return refuse(url, 'not a JSON object');
    if (d.client_id !== url) return refuse(url, 'its client_id is not this URL');
    if (typeof d.client_name !== 'string' || d.client_name === '') return refuse(url, 'no client_name');
    if (!Array.isArray(d.redirect_uris) || d.redirect_uris.length === 0)
      return refuse(url, 'no redirect_uris');
    return new Response(body, { status: 200, headers: response.headers });
  }

  return {
    async allowFetch(_ctx, url) {
      const host = hostOf(url);
      if (!allowedHost(host)) {
        remember(url, host ? `host ${host} is not allowed` : 'not an https URL');
        return false;
      }
      const until = failedUntil.get(url);
      if (until !== undefined && until > now()) return false;
      failedUntil.delete(url);
      documents.add(url);
      return true;
    },

    async fetch(input, init) {
      const url = String(input);
      const host = hostOf(url);
      const isDocument = documents.delete(url);
      if (!allowedHost(host)) return refuse(url, host ? `host ${host} is not allowed` : 'not an https URL');
      const requestInit: FetchOptions = { ...init, redirect: 'manual' };
      // The operator's own hosts may be private: drop oidc-provider's special-use address guard.
      if (host && trusted.has(host) && !defaults.has(host)) delete requestInit.dispatcher;
      let response: Response;
      try {
        response = await globalThis.fetch(url, requestInit as RequestInit);
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
        return refuse(url, `fetch failed: ${cause}`);
      }
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        return refuse(url, `redirect (HTTP ${response.status}) not followed`);
      }
      return isDocument ? checkDocument(url, response) : response;
    },

    documentHost(clientId) {
      return hostOf(clientId);
    },
  };
}
