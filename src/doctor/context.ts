/**
 * What the doctor learns as it goes, shared by the checks: each check reads what earlier ones
 * found (the metadata, the issuer, the token) and adds to it.
 */
import { acceptedAudiences } from '../auth/bearer/verify.js';
import type { Http } from './http.js';
import type { DoctorOptions } from './types.js';

export interface DoctorContext {
  options: DoctorOptions;
  http: Http;
  /** The URL as given, without trailing slash on a bare origin. */
  url: string;
  origin: string;
  /** `''` for a bare origin, `/mcp` (or whatever path) otherwise. */
  path: string;
  expectedAudience: string;
  /** Audiences the server accepts (MCP_AUDIENCE, MCP_ALT_AUDIENCE). */
  acceptedAudiences: string[];
  /** From the 401 challenge. */
  challenge?: Record<string, string>;
  prm?: Record<string, unknown>;
  issuer?: string;
  asMetadata?: Record<string, unknown>;
  /** Discovery URLs whose metadata names another issuer (`<url> says "…"`). */
  issuerMismatches?: string[];
  registration?: Record<string, unknown>;
  token?: string;
  tokenHeader?: Record<string, unknown>;
  tokenClaims?: Record<string, unknown>;
  tools?: { name: string; annotations?: Record<string, unknown> }[];
  searchResult?: unknown;
  fetchResult?: unknown;
  /** Protocol version negotiated by initialize. */
  protocolVersion?: string;
}

/** The doctor's `initialize` request (2025-11-25). */
export const INITIALIZE_REQUEST = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'sample-mcp-doctor', version: '1' },
  },
};

export function createContext(options: DoctorOptions, http: Http): DoctorContext {
  const u = new URL(options.url);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return {
    options,
    http,
    url: `${u.origin}${path}`,
    origin: u.origin,
    path,
    expectedAudience: options.audience ?? u.origin,
    // the same rule the server applies (an origin-only audience also matches its trailing-slash form)
    acceptedAudiences: acceptedAudiences(
      options.audience
        ? [options.audience, ...(options.altAudience ? [options.altAudience] : [])]
        : [u.origin, `${u.origin}/mcp`],
    ),
  };
}

/** Parses `Bearer k="v", k2="v2"`; `undefined` when the syntax is wrong. */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const m = /^Bearer(?:\s+(.*))?$/is.exec(header.trim());
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const rest = (m[1] ?? '').trim();
  if (rest === '') return out;
  const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)/y;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const p = re.exec(rest);
    if (!p) return undefined;
    out[(p[1] as string).toLowerCase()] = (p[2] as string).replace(/\\(.)/g, '$1');
    pos = re.lastIndex;
  }
  return out;
}
