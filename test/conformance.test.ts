/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance` 0.2.0-alpha.12) against
 * this server, with authentication on: the suite talks to a loopback proxy that adds a valid bearer
 * token (the test issuer's, user alice) to every request and forwards everything else unchanged,
 * the original `Host` and `Origin` included. See docs/conformance.md.
 *
 * Only the scenarios that apply to this server run (RUNS); every other server scenario of the suite
 * is listed in NOT_APPLICABLE with the reason, and a test fails when the suite has a scenario that is
 * in neither list. Each check of each chosen scenario must be SUCCESS, or be one of the known and
 * justified results in conformance/baseline.json (and every entry there must still occur). Checks
 * that pass without testing anything here are listed there as `vacuous` and not counted as passes.
 *
 * The suite needs Node 22; `npm test` installs it and a Node 22 binary from the npm registry into
 * ~/.cache/sample-mcp (scripts/provision.ts, test/helpers/conformance.ts). When that was impossible
 * the file fails in CI (`CI` set) and is skipped locally.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type AuthProxy,
  type Check,
  CONFORMANCE_VERSION,
  type ConformanceRun,
  type ConformanceTool,
  ensureConformanceTool,
  listServerScenarios,
  type ProxyExchange,
  runScenario,
  startAuthProxy,
} from './helpers/conformance.js';
import { requirements } from './helpers/requirements.js';
import { resultsDir } from './helpers/results.js';
import { type Stack, startStack } from './helpers/stack.js';

type Wire = '2025-06-18' | '2025-11-25' | '2026-07-28';

interface Run {
  /** Id used in conformance/baseline.json and for the expected-failures file name. */
  id: string;
  /** Protocol revision the suite speaks (`--spec-version`). */
  wire: Wire;
  /** Which server: the default configuration, or 2025-era session POSTs answered as SSE. */
  server: 'default' | 'sse';
  scenarios: string[];
}

/** What runs. One `conformance server --scenario` invocation per entry. */
export const RUNS: Run[] = [
  {
    id: '2025-11-25',
    wire: '2025-11-25',
    server: 'default',
    scenarios: [
      'server-initialize', // initialize handshake, session id format
      'ping',
      'tools-list', // structure and tool-name format of search/fetch
      'server-session-lifecycle', // initialized → DELETE → 404 on the dead session
      'dns-rebinding-protection', // bad Host/Origin → 4xx, localhost → 2xx
      'server-sse-multiple-streams', // concurrent POSTs on one session
    ],
  },
  {
    // The same 2025-11-25 wire with MCP_RESPONSE_MODE=sse: answers stream through the proxy, and the
    // SSE-stream check of server-sse-multiple-streams is exercised (INFO in JSON mode).
    id: '2025-11-25-sse',
    wire: '2025-11-25',
    server: 'sse',
    scenarios: [
      'server-initialize',
      'ping',
      'tools-list',
      'server-session-lifecycle',
      'server-sse-multiple-streams',
    ],
  },
  {
    // ChatGPT's revision. Only this scenario speaks 2025-06-18 throughout: the others connect with
    // the suite's SDK client, which offers 2025-11-25 whatever --spec-version says.
    id: '2025-06-18',
    wire: '2025-06-18',
    server: 'default',
    scenarios: ['server-session-lifecycle'],
  },
  {
    id: '2026-07-28',
    wire: '2026-07-28',
    server: 'default',
    scenarios: [
      'server-stateless', // SEP-2575: _meta validation, server/discover, versions, 404 for removed methods, subscriptions
      'tools-list', // plus deterministic order (2026-07-28)
      'dns-rebinding-protection',
      'http-header-validation', // SEP-2243: Mcp-Method/Mcp-Name vs body → 400 -32020
      'caching', // SEP-2549: ttlMs/cacheScope on tools/list
      'server-sse-multiple-streams',
    ],
  },
];

const FIXTURE_TOOL = "calls the suite's own fixture tool";
/** Every other server scenario of the suite, and why it does not apply to this server. */
export const NOT_APPLICABLE: Record<string, string> = {
  'logging-set-level': 'no `logging` capability; -32601 is the correct answer',
  'completion-complete': 'no `completions` capability (no prompts or resource templates to complete)',
  'tools-call-simple-text': `${FIXTURE_TOOL} test_simple_text; this server has only search and fetch`,
  'tools-call-image': `${FIXTURE_TOOL} test_image_content`,
  'tools-call-audio': `${FIXTURE_TOOL} test_audio_content`,
  'tools-call-embedded-resource': `${FIXTURE_TOOL} test_embedded_resource`,
  'tools-call-mixed-content': `${FIXTURE_TOOL} test_multiple_content_types`,
  'tools-call-with-logging': `${FIXTURE_TOOL} test_tool_with_logging; no logging capability`,
  'tools-call-error': `${FIXTURE_TOOL} test_error_handling`,
  'tools-call-with-progress': `${FIXTURE_TOOL} test_tool_with_progress`,
  'tools-call-sampling': `${FIXTURE_TOOL} test_sampling; the server never asks the client to sample`,
  'tools-call-elicitation': `${FIXTURE_TOOL} test_elicitation; the server never elicits`,
  'json-schema-2020-12': `${FIXTURE_TOOL} json_schema_2020_12_tool`,
  'elicitation-sep1034-defaults': `${FIXTURE_TOOL} test_elicitation_sep1034_defaults; the server never elicits`,
  'elicitation-sep1330-enums': `${FIXTURE_TOOL} test_elicitation_sep1330_enums; the server never elicits`,
  'server-sse-polling': `${FIXTURE_TOOL} test_reconnection (closes a stream to test resumption); every check is INFO`,
  'resources-list': 'no resources capability (orders are reached through the fetch tool)',
  'resources-read-text': 'no resources capability',
  'resources-read-binary': 'no resources capability',
  'resources-templates-read': 'no resources capability',
  'resources-subscribe': 'no resources capability',
  'resources-unsubscribe': 'no resources capability',
  'sep-2164-resource-not-found':
    'no resources capability: resources/read is -32601, which the scenario only warns about',
  'sep-2640-skills-directory': 'skills extension, not implemented',
  'sep-2640-skills-enumeration': 'skills extension, not implemented',
  'sep-2640-skills-manifest': 'skills extension, not implemented',
  'prompts-list': 'no prompts capability',
  'prompts-get-simple': 'no prompts capability',
  'prompts-get-with-args': 'no prompts capability',
  'prompts-get-embedded-resource': 'no prompts capability',
  'prompts-get-with-image': 'no prompts capability',
  'http-custom-header-server-validation':
    'no tool has x-mcp-header parameters: every check is "Not testable"',
  'tasks-lifecycle': 'tasks extension (SEP-2663), not implemented; fixture tools',
  'tasks-capability-negotiation': 'tasks extension, not implemented',
  'tasks-wire-fields': 'tasks extension, not implemented',
  'tasks-request-state-removal': 'tasks extension, not implemented',
  'tasks-mrtr-input': 'tasks extension, not implemented',
  'tasks-request-headers': 'tasks extension, not implemented',
  'tasks-dispatch-and-envelope': 'tasks extension, not implemented',
  'tasks-status-notifications': 'tasks extension, not implemented (the scenario itself is a stub)',
  'tasks-required-task-error': 'tasks extension, not implemented',
  'tasks-mrtr-composition': 'tasks extension, not implemented',
  'input-required-result-basic-elicitation': `no tool needs client input (SEP-2322); ${FIXTURE_TOOL}`,
  'input-required-result-basic-sampling': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-basic-list-roots': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-request-state': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-multiple-input-requests': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-multi-round': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-missing-input-response': `no tool needs client input; ${FIXTURE_TOOL} (warns only)`,
  'input-required-result-non-tool-request': 'no tool needs client input; needs prompts',
  'input-required-result-result-type': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-unsupported-methods':
    'no tool needs client input: passes trivially (the server never returns InputRequiredResult)',
  'input-required-result-tampered-state': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-capability-check': `no tool needs client input; ${FIXTURE_TOOL}`,
  'input-required-result-ignore-extra-params': `no tool needs client input; ${FIXTURE_TOOL} (warns only)`,
  'input-required-result-validate-input': `no tool needs client input: passes only because ${FIXTURE_TOOL} that is missing`,
};

interface Expected {
  run: string;
  scenario: string;
  check: string;
  status: string;
  text: string;
  reason: string;
}
interface Vacuous {
  run: string;
  scenario: string;
  check: string;
  reason: string;
}
const BASELINE = JSON.parse(readFileSync(join('conformance', 'baseline.json'), 'utf8')) as {
  suite: string;
  expected: Expected[];
  vacuous: Vacuous[];
};
const expectedFailuresFile = (run: Run) => join('conformance', `expected-failures-${run.id}.yml`);
const OUT = resultsDir('conformance');
const TIMEOUT_MS = 90_000;

// Provisioned by `npm test`; a cached copy that no longer runs is reinstalled (or fails) in `before`.
const skip = requirements('MCP conformance suite', ['conformance']);
let tool: ConformanceTool | undefined;

interface Server {
  stack: Stack;
  proxy: AuthProxy;
}
const servers: Partial<Record<Run['server'], Server>> = {};
/** Per run id, scenario → its checks (for the summary). */
const results = new Map<string, Map<string, Check[]>>();

async function startServer(env: Record<string, string>): Promise<Server> {
  const stack = await startStack(env);
  const token = await stack.token('alice', {}, { expiresIn: 3600 });
  const proxy = await startAuthProxy(stack.base, () => token);
  return { stack, proxy };
}

function textOf(c: Check): string {
  return `${c.errorMessage ?? ''} ${c.description ?? ''}`;
}

function isLoopbackHost(host: string | undefined): boolean {
  const name = host ? new URL(`http://${host}`).hostname : '';
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]';
}

/** Evidence from the proxy that the scenario spoke the intended wire, with the token accepted. */
function assertWire(run: Run, scenario: string, ex: ProxyExchange[]): void {
  const where = `${run.id} ${scenario}`;
  assert.ok(ex.length > 0, `${where}: no request reached the server`);
  for (const e of ex) {
    assert.notEqual(e.status, 401, `${where}: the bearer token was refused: ${JSON.stringify(e)}`);
    if (e.status === 403)
      assert.ok(!isLoopbackHost(e.host), `${where}: 403 for a loopback Host: ${JSON.stringify(e)}`);
  }
  const initialized = ex.filter((e) => e.rpcMethod === 'initialize' && e.status === 200);
  if (run.wire === '2026-07-28') {
    assert.deepEqual(initialized, [], `${where}: a 2026-07-28 run opened a 2025-era session`);
    assert.ok(
      ex.some((e) => e.protocolVersion === '2026-07-28' && e.status === 200),
      `${where}: no request with MCP-Protocol-Version 2026-07-28 succeeded`,
    );
  } else {
    assert.ok(
      initialized.some((e) => e.bodyProtocolVersion === run.wire),
      `${where}: no successful initialize offering ${run.wire}: ${JSON.stringify(ex.slice(0, 3))}`,
    );
  }
}

/** Every check SUCCESS, or exactly as the baseline expects it; every baseline entry still occurs. */
function assertChecks(run: Run, scenario: string, r: ConformanceRun): Check[] {
  const where = `${run.id} ${scenario}`;
  const out = `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`;
  assert.ok(!r.timedOut, `${where}: timed out after ${TIMEOUT_MS} ms\n${out}`);
  assert.equal(r.resultFiles.length, 1, `${where}: expected one checks.json under ${r.outDir}\n${out}`);
  const checks = r.checks ?? [];
  assert.ok(checks.length > 0, `${where}: no checks\n${out}`);

  const expected = BASELINE.expected.filter((e) => e.run === run.id && e.scenario === scenario);
  const vacuous = new Set(
    BASELINE.vacuous.filter((v) => v.run === run.id && v.scenario === scenario).map((v) => v.check),
  );
  const unexpected = checks.filter(
    (c) =>
      c.status !== 'SUCCESS' &&
      !expected.some((e) => e.check === c.id && e.status === c.status && textOf(c).includes(e.text)),
  );
  assert.deepEqual(
    unexpected.map((c) => ({ id: c.id, status: c.status, errorMessage: c.errorMessage, details: c.details })),
    [],
    `${where}: checks that are neither SUCCESS nor in conformance/baseline.json (results in ${r.outDir})`,
  );
  const stale = expected.filter(
    (e) => !checks.some((c) => c.id === e.check && c.status === e.status && textOf(c).includes(e.text)),
  );
  assert.deepEqual(
    stale,
    [],
    `${where}: baseline entries that no longer occur; update conformance/baseline.json`,
  );
  for (const v of vacuous)
    assert.ok(
      checks.some((c) => c.id === v),
      `${where}: vacuous entry ${v} no longer occurs; update conformance/baseline.json`,
    );
  const evidence = checks.filter(
    (c) => c.status === 'SUCCESS' && c.id !== 'wire-schema-valid' && !vacuous.has(c.id),
  );
  assert.ok(evidence.length > 0, `${where}: not a single real SUCCESS check`);
  // The suite's own verdict, with the suite's own baseline file: exit 0.
  assert.equal(r.code, 0, `${where}: conformance exited ${r.code}\n${out}`);
  return checks;
}

describe(`MCP conformance suite ${CONFORMANCE_VERSION}, authenticated through a bearer proxy`, {
  skip,
}, () => {
  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    tool = await ensureConformanceTool();
    servers.default = await startServer({});
    servers.sse = await startServer({ MCP_RESPONSE_MODE: 'sse' });
  });

  after(async () => {
    for (const s of Object.values(servers)) {
      await s.proxy.close();
      await s.stack.close();
    }
    const summary = [...results].map(([run, scenarios]) => ({
      run,
      scenarios: [...scenarios].map(([scenario, checks]) => ({
        scenario,
        checks: checks.length,
        success: checks.filter((c) => c.status === 'SUCCESS').length,
        other: checks.filter((c) => c.status !== 'SUCCESS').map((c) => `${c.id}: ${c.status}`),
      })),
    }));
    if (summary.length) writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  });

  test('every server scenario of the suite is either run or explained in NOT_APPLICABLE', async () => {
    const listed = await listServerScenarios(tool as ConformanceTool);
    assert.ok(listed.length > 30, `conformance list --server listed only ${listed.length}`);
    const chosen = new Set(RUNS.flatMap((r) => r.scenarios));
    assert.deepEqual(
      listed.filter((s) => !chosen.has(s) && !(s in NOT_APPLICABLE)),
      [],
      'new scenarios: run them or say in NOT_APPLICABLE why they do not apply',
    );
    assert.deepEqual(
      [...chosen, ...Object.keys(NOT_APPLICABLE)].filter((s) => !listed.includes(s)),
      [],
      'scenarios that this suite version does not have',
    );
    assert.deepEqual(
      [...chosen].filter((s) => s in NOT_APPLICABLE),
      [],
      'scenarios both run and excluded',
    );
  });

  test('the baseline and the suite-format expected-failures files agree', () => {
    for (const run of RUNS) {
      const mine = BASELINE.expected
        .filter((e) => e.run === run.id && (e.status === 'FAILURE' || e.status === 'WARNING'))
        .map((e) => `${e.scenario}:${e.check}`)
        .sort();
      const file = expectedFailuresFile(run);
      const theirs = existsSync(file)
        ? [...readFileSync(file, 'utf8').matchAll(/^\s*-\s*([\w-]+:[\w-]+)\s*(#.*)?$/gm)]
            .map((m) => m[1] as string)
            .sort()
        : [];
      assert.deepEqual(theirs, mine, `${file} vs conformance/baseline.json (run ${run.id})`);
    }
    const ids = new Set(RUNS.map((r) => r.id));
    for (const e of [...BASELINE.expected, ...BASELINE.vacuous]) {
      assert.ok(ids.has(e.run), `baseline entry for unknown run ${e.run}`);
      assert.ok(
        RUNS.find((r) => r.id === e.run)?.scenarios.includes(e.scenario),
        `baseline entry for ${e.scenario}, which run ${e.run} does not run`,
      );
    }
  });

  test('authentication stays on: the server refuses the suite without the proxy', async () => {
    const s = servers.default as Server;
    const res = await fetch(`${s.stack.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
  });

  test('the proxy forwards the original Host, so the server judges the Host the suite sent', async () => {
    const s = servers.default as Server;
    const post = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${s.proxy.url}/mcp`);
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
        const req = request(
          {
            host: '127.0.0.1',
            port: u.port,
            path: u.pathname,
            method: 'POST',
            headers: {
              host,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': '2025-11-25',
            },
          },
          (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    // No Origin: only the server's Host gate can refuse it, and it must.
    assert.equal(await post('evil.example.com'), 403);
    assert.equal(await post(new URL(s.proxy.url).host), 200);
  });

  for (const run of RUNS) {
    for (const scenario of run.scenarios) {
      test(`${run.id}${run.server === 'sse' ? ' (MCP_RESPONSE_MODE=sse)' : ''}: ${scenario}`, async (t) => {
        const s = servers[run.server] as Server;
        const from = s.proxy.exchanges.length;
        const ef = expectedFailuresFile(run);
        const r = await runScenario(tool as ConformanceTool, {
          url: `${s.proxy.url}/mcp`,
          scenario,
          specVersion: run.wire,
          ...(existsSync(ef) && { expectedFailures: ef }),
          outDir: join(OUT, run.id, scenario),
          timeoutMs: TIMEOUT_MS,
        });
        const checks = assertChecks(run, scenario, r);
        assertWire(run, scenario, s.proxy.exchanges.slice(from));
        const perRun = results.get(run.id) ?? new Map<string, Check[]>();
        perRun.set(scenario, checks);
        results.set(run.id, perRun);
        const vacuous = BASELINE.vacuous.filter((v) => v.run === run.id && v.scenario === scenario);
        const ok = checks.filter((c) => c.status === 'SUCCESS').length;
        t.diagnostic(
          `${ok}/${checks.length} SUCCESS${vacuous.length ? ` (${vacuous.length} of them vacuous, not counted)` : ''}`,
        );
        for (const v of vacuous) t.diagnostic(`vacuous: ${v.check} (conformance/baseline.json)`);
        for (const c of checks.filter((c) => c.status !== 'SUCCESS'))
          t.diagnostic(`known: ${c.id} ${c.status} (conformance/baseline.json)`);
      });
    }
  }
});
