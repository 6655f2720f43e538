/**
 * What a suite needs from the machine (scripts/provision.ts installs it during `npm test`). A suite
 * asks before it registers its tests and passes the answer to `describe`/`test` as `skip`:
 *
 * - everything present: `undefined`, the suite runs;
 * - something missing, locally: a one-line reason naming the component and the command that
 *   installs it; the suite is skipped and scripts/run-tests.mjs lists it in the closing summary;
 * - something missing under `CI=true`: an error, so CI cannot pass with a suite skipped.
 *
 * @example
 * import { describe } from 'node:test';
 * import { requirements } from './helpers/requirements.js';
 *
 * const skip = requirements('landing page in Chromium', ['chromium', 'openssl']);
 * describe('landing page', { skip }, () => {});
 */
import { appendFileSync } from 'node:fs';
import { component } from '../../scripts/provision.js';

/** A precondition that is not an installable component (a port, a privilege). */
export interface Condition {
  /** What is missing, e.g. `ports 80 and 443`. */
  what: string;
  /** How to get it, e.g. `run as root or grant CAP_NET_BIND_SERVICE`. */
  fix: string;
}

/**
 * The skip reason for `suite`, or `undefined` when it can run.
 *
 * @param suite - the suite's name, as the summary shows it
 * @param needs - component ids from scripts/provision.ts (`chromium`, `keycloak`, …)
 * @param conditions - further preconditions the suite checked itself (`undefined` entries are met)
 */
export function requirements(
  suite: string,
  needs: string[],
  ...conditions: (Condition | undefined)[]
): string | undefined {
  const missing: Condition[] = [
    ...needs
      .map(component)
      .filter((c) => c.find() === undefined)
      .map((c) => ({ what: c.id, fix: c.install })),
    ...conditions.filter((c): c is Condition => c !== undefined),
  ];
  if (missing.length === 0) return undefined;
  const reason = `needs ${missing.map((m) => `${m.what} (${m.fix})`).join(', ')}`;
  const log = process.env.SAMPLE_MCP_SKIP_LOG;
  if (log) for (const m of missing) appendFileSync(log, `${JSON.stringify({ suite, ...m })}\n`);
  if (process.env.CI) throw new Error(`${suite} cannot run in CI: it ${reason}`);
  return reason;
}
