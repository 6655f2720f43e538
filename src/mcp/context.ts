/**
 * What a tool handler needs from the request: the validated principal, carried from the HTTP
 * layer through the SDK in `AuthInfo.extra` (the raw token is never put there).
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.js';

export interface ToolDeps {
  store: import('../orders/types.js').OrderStore;
  serverUrl: string;
  onToolCall?: (tool: string, outcome: 'ok' | 'error') => void;
}

/** Builds the `AuthInfo` handed to the SDK for a request. */
export function authInfoFor(p: Principal, resource: string): AuthInfo {
  return {
    // The SDK types require a string; the token itself stays in the HTTP layer and is never forwarded.
    token: '[redacted]',
    clientId: p.clientId ?? 'unknown',
    scopes: p.scopes,
    expiresAt: p.expiresAt,
    resource: new URL(resource),
    extra: { principal: p },
  };
}

export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  const p = authInfo?.extra?.principal;
  return p && typeof p === 'object' ? (p as Principal) : undefined;
}

/**
 * What the transport knows about a JSON-RPC message that the SDK's handler context does not carry
 * (on the shared server the SDK sees internal request ids and no session): for spans and metrics.
 */
export interface MessageFacts {
  /** The non-secret part of the session id (never the signed id itself). */
  session?: string;
  protocolVersion?: string;
  /** The client's JSON-RPC id. */
  requestId?: string | number;
}

/** `authInfo` with these facts added (a copy; the original is shared by a batch's messages). */
export function withFacts(authInfo: AuthInfo, facts: MessageFacts): AuthInfo {
  return { ...authInfo, extra: { ...authInfo.extra, facts: { ...factsOf(authInfo), ...facts } } };
}

export function factsOf(authInfo: AuthInfo | undefined): MessageFacts {
  const f = authInfo?.extra?.facts;
  return f && typeof f === 'object' ? (f as MessageFacts) : {};
}
