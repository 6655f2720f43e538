/**
 * Self-validating session ids for the 2025 Streamable HTTP wire: `<payload>.<mac>`, where the
 * payload (base64url JSON) names a hash of the principal (`iss|sub`), the negotiated protocol
 * version, when it was issued and a random nonce, and the mac is HMAC-SHA-256 over the payload
 * with a key every replica shares. Any replica can therefore check that it issued a session id and
 * whose it is without asking the replica that opened it, so no sticky routing is needed.
 *
 * A valid signature proves only that the id was issued; whether the session was since ended
 * (DELETE, idle) is the {@link SessionRegistry}'s answer.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  protocolVersion: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
}

interface Payload {
  /** base64url(sha256(principal key))[0..22] */
  p: string;
  /** protocol version */
  v: string;
  /** issued at, seconds */
  t: number;
  /** nonce */
  n: string;
}

const MAX_ID_LENGTH = 512;

/**
 * What shared state is keyed by instead of a session id (ids are bearer-like: they are not stored).
 */
export function sessionHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url').slice(0, 32);
}

/**
 * The part of a session id that may be shown in traces: for our signed ids the payload without the
 * MAC (the MAC is what makes an id usable; the payload names only hashes, a version, a time and a
 * nonce); for other ids (legacy SSE stream ids, which route messages) their {@link sessionHash}.
 */
export function publicSessionId(sessionId: string): string {
  const dot = sessionId.indexOf('.');
  return dot > 0 ? sessionId.slice(0, Math.min(dot, 200)) : sessionHash(sessionId);
}

/** What shared state is keyed by instead of a principal key (`iss|sub`). */
export function principalHash(principalKey: string): string {
  return createHash('sha256').update(principalKey).digest('base64url').slice(0, 22);
}

export class SessionIds {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    private readonly options: { maxAgeMs: number; now?: () => number },
  ) {
    // Domain-separated from any other use of the same secret.
    this.key = createHmac('sha256', secret).update('sample-mcp session id v1').digest();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  /** A new session id for this principal and negotiated protocol version. */
  issue(principalKey: string, protocolVersion: string): string {
    const payload: Payload = {
      p: principalHash(principalKey),
      v: protocolVersion.slice(0, 40),
      t: Math.floor(this.now() / 1000),
      n: randomBytes(12).toString('base64url'),
    };
    const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${encoded}.${this.mac(encoded).toString('base64url')}`;
  }

  /**
   * The session's claims when `id` was issued with this key, belongs to `principalKey` and is not
   * older than `maxAgeMs`; otherwise `undefined` (callers answer exactly as for an unknown id).
   */
  verify(id: string, principalKey: string): SessionClaims | undefined {
    if (id.length > MAX_ID_LENGTH) return undefined;
    const dot = id.indexOf('.');
    if (dot <= 0) return undefined;
    const encoded = id.slice(0, dot);
    const given = Buffer.from(id.slice(dot + 1), 'base64url');
    const expected = this.mac(encoded);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let payload: Partial<Payload>;
    try {
      payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<Payload>;
    } catch {
      return undefined;
    }
    if (typeof payload.p !== 'string' || typeof payload.v !== 'string' || typeof payload.t !== 'number') {
      return undefined;
    }
    const a = Buffer.from(payload.p);
    const b = Buffer.from(principalHash(principalKey));
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    const issuedAt = payload.t * 1000;
    const age = this.now() - issuedAt;
    if (age > this.options.maxAgeMs || age < -60_000) return undefined;
    return { protocolVersion: payload.v, issuedAt };
  }
}
