/**
 * Building check results: `check(id, title)` gives the three outcomes, so a check reads as the
 * condition and what each outcome says.
 */
import { NetworkError } from './http.js';
import type { CheckResult } from './types.js';

export interface Check {
  pass(detail?: string): CheckResult;
  /** A failure always says why (in the user's terms) and what to change. */
  fail(cause: string, fix: string, detail?: string): CheckResult;
  skip(detail: string): CheckResult;
}

export function check(id: string, title: string): Check {
  return {
    pass: (detail) => ({ id, title, status: 'pass', ...(detail !== undefined && { detail }) }),
    fail: (cause, fix, detail) => ({
      id,
      title,
      status: 'fail',
      ...(detail !== undefined && { detail }),
      cause,
      fix,
    }),
    skip: (detail) => ({ id, title, status: 'skip', detail }),
  };
}

/** A request that got no HTTP answer; TLS problems get their own fix. Anything else is rethrown. */
export function networkFail(id: string, title: string, err: unknown, fix: string): CheckResult {
  if (!(err instanceof NetworkError)) throw err;
  const tls = /certificate|TLS|self-signed|CA/.test(err.message);
  return check(id, title).fail(
    err.message,
    tls
      ? 'TLS/host mismatch: make the certificate cover this host name and be issued by a CA the client trusts (see docs/troubleshooting.md#tls)'
      : fix,
  );
}
