/**
 * Verified-token cache: a token that passed the whole check (signature, issuer, audience, expiry)
 * is not verified again on every request. An entry lives until the token expires, at most
 * `maxTtlMs`, and only while the issuer's key set is the one it was verified against (a rotation
 * that drops a key voids every entry). Keys are SHA-256 hashes of tokens, never the tokens.
 * Bounded: beyond `maxEntries` the oldest entry goes.
 */
import { createHash } from 'node:crypto';
import { evictOldest } from '../../web/maps.js';
import type { Principal } from '../principal.js';

interface Entry {
  principal: Principal;
  until: number;
  generation: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { maxEntries: number; maxTtlMs: number; now?: () => number }) {}

  private key(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(token: string, generation: number): Principal | undefined {
    const key = this.key(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.generation !== generation || (this.options.now?.() ?? Date.now()) >= entry.until) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  set(token: string, principal: Principal, generation: number): void {
    const now = this.options.now?.() ?? Date.now();
    // `expiresAt` is the token's `exp` in seconds: never past it, whatever the clock-skew leeway.
    const until = Math.min(principal.expiresAt * 1000, now + this.options.maxTtlMs);
    if (until <= now) return;
    this.entries.set(this.key(token), { principal, until, generation });
    evictOldest(this.entries, this.options.maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }
}
