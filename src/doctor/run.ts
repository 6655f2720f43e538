/**
 * Runs every check of docs/validation.md against an MCP URL, in order, each building on what the
 * previous ones found.
 *
 * @example
 * ```ts
 * const report = await runDoctor({ url: 'https://mcp.example.com', user: 'alice@example.com', password: '…' });
 * console.log(report.ok); // false when any check failed; report.checks says which, why and the fix
 * ```
 */

import { checkAuthorizationServer } from './checks/authorizationServer/index.js';
import { checkChallenge, checkCors, checkMetadata } from './checks/discovery.js';
import { checkSession } from './checks/session.js';
import { checkHttpRedirect, checkTls } from './checks/transport.js';
import { createContext, type DoctorContext } from './context.js';
import { Http } from './http.js';
import type { CheckResult, DoctorOptions } from './types.js';

export interface DoctorReport {
  url: string;
  ok: boolean;
  checks: CheckResult[];
  context: DoctorContext;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const http = new Http(options.timeoutMs);
  const ctx = createContext(options, http);
  const checks: CheckResult[] = [];
  for (const step of [
    checkTls,
    checkHttpRedirect,
    checkChallenge,
    checkMetadata,
    checkAuthorizationServer,
    checkCors,
    checkSession,
  ]) {
    checks.push(...(await step(ctx)));
  }
  return { url: ctx.url, ok: checks.every((c) => c.status !== 'fail'), checks, context: ctx };
}
