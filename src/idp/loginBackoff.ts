/**
 * Failed logins counted per (e-mail, client address), with exponential backoff: after the
 * `n`-th failure, `n ≥ freeFailures`, that pair waits `baseDelayMs · 2^(n − freeFailures)`, up to
 * `maxDelayMs` (five free, then 1 s, 2 s, 4 s … 15 min). Nothing is locked: the same e-mail
 * from another address is not affected, so an attacker cannot lock a user out, only slow their
 * own guesses down. A success clears the pair.
 *
 * The table is bounded (`maxEntries`, oldest first out) and a pair is forgotten `forgetAfterMs`
 * after its last failure, so random e-mails cannot make it grow without end.
 */
import { evictOldest } from '../web/maps.js';

export interface BackoffOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  maxEntries: number;
}

export const LOGIN_BACKOFF: BackoffOptions = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxEntries: 10_000,
};

interface Failures {
  count: number;
  last: number;
  /** No attempt for this pair before then. */
  until: number;
}

export interface LoginBackoff {
  /** Milliseconds this pair must still wait before its next attempt (0: go ahead). */
  waitMs(email: string, address: string, now?: number): number;
  failed(email: string, address: string, now?: number): void;
  succeeded(email: string, address: string): void;
  readonly size: number;
}

export function createLoginBackoff(options: BackoffOptions = LOGIN_BACKOFF): LoginBackoff {
  /** By last failure, oldest first. */
  const table = new Map<string, Failures>();
  const keyOf = (email: string, address: string) => `${address}\n${email}`;
  const forgetOld = (now: number) => {
    for (const [key, f] of table) {
      if (f.last >= now - options.forgetAfterMs) break;
      table.delete(key);
    }
  };
  return {
    waitMs(email, address, now = Date.now()) {
      forgetOld(now);
      const f = table.get(keyOf(email, address));
      return f ? Math.max(0, f.until - now) : 0;
    },
    failed(email, address, now = Date.now()) {
      forgetOld(now);
      const key = keyOf(email, address);
      const count = (table.get(key)?.count ?? 0) + 1;
      const over = count - options.freeFailures;
      const delay = over >= 0 ? Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** over) : 0;
      table.delete(key);
      table.set(key, { count, last: now, until: now + delay });
      evictOldest(table, options.maxEntries);
    },
    succeeded(email, address) {
      table.delete(keyOf(email, address));
    },
    get size() {
      return table.size;
    },
  };
}
