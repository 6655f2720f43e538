/**
 * Throughput comparison: this server against the MCP SDK's documented stateless pattern and a
 * plain node:http floor, in one run on one machine. Every target runs in its own child process
 * (so RSS is per target) on 127.0.0.1, on a freshly generated copy of the sample order database,
 * behind the same test issuer; autocannon loads them one after another, round after round, with
 * an authenticated `tools/call search` per request (tokens of alice, bob and carol and the shared
 * benchmark queries, spread over the connections).
 *
 *   npx tsx bench/compare.ts                                  # 3 rounds × 10 s per target, 50 connections
 *   npx tsx bench/compare.ts --rounds 2 --seconds 8 --only plain,sdk-stateless,ours-stateless-json
 *   npx tsx bench/compare.ts --memory --rounds 0              # RSS after 10k and after 100k requests
 *   npx tsx bench/compare.ts --only sdk-stateless --cpu-prof sdk-stateless   # + top self-time frames
 *   npx tsx bench/compare.ts --only plain,ours-stateless-json --otel http://127.0.0.1:4318   # + traced twins
 *
 * Targets: plain, sdk-stateless, ours-stateless-json, ours-stateless-sse, ours-session-json,
 * ours-session-sse, ours-2026 (see bench/compare/targets.ts). Other flags: --warmup <s> (default 2,
 * before every measured run), --connections <n> (50; fewer shows latency at lower concurrency),
 * --query <text> (one query instead of the list), --workload staff-common-word (staff token,
 * "chocolate" only: the query matching most rows; default mixed), --check (exit 1 when a target is missed),
 * --out <file>. --cpu-prof <target> starts that target under `node --cpu-prof` (profile in
 * bench/results/prof/; re-read it with `npx tsx bench/compare/profile.ts <file>`) and prints its
 * top 25 self-time functions; its numbers then carry the profiler's overhead, so profile in a
 * separate run (`--only`).
 *
 * Prints the markdown tables (median of rounds; errors are non-2xx answers plus connection errors)
 * and the ratios of this server's modes to the SDK (c/b ≥ 4.0) and to the floor (c/a ≥ 0.75)
 * with p99 ≤ 25 ms, and writes everything to bench/results/compare-latest.json. Exits 0 unless
 * something crashed (or, with --check, a target was missed): it is a measurement, not a gate.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { SqliteOrderStore } from '../src/orders/sqlite.js';
import { startTestIssuer } from '../test/helpers/issuer.js';
import { BENCH_QUERIES } from '../test/helpers/orderCases.js';
import { freePort } from '../test/helpers/stack.js';
import { formatProfile, type ProfileSummary, summarizeProfile } from './compare/profile.js';
import {
  biomeJson,
  GOALS,
  type MemoryReport,
  memoryTable,
  type RoundResult,
  ratios,
  ratioTable,
  summarize,
  type TargetReport,
  throughputTable,
} from './compare/report.js';
import {
  closeSessions,
  connectionRequests,
  openSessions,
  precheck,
  profilesIn,
  type Running,
  rssMiB,
  type StartContext,
  startTarget,
  stopTarget,
  TARGETS,
  type TargetDef,
} from './compare/targets.js';

function usage(message: string): never {
  process.stderr.write(
    `error: ${message}\nUsage: npx tsx bench/compare.ts [--rounds 3] [--seconds 10] [--warmup 2] ` +
      '[--connections 50] [--only a,b] [--memory] [--cpu-prof <target>] [--query <text>] ' +
      '[--workload mixed|staff-common-word] [--check] [--otel <otlp-http-url>] ' +
      '[--out file]\n',
  );
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      only: { type: 'string' },
      memory: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      query: { type: 'string' },
      workload: { type: 'string', default: 'mixed' },
      check: { type: 'boolean', default: false },
      out: { type: 'string', default: join('bench', 'results', 'compare-latest.json') },
      otel: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  usage((err as Error).message);
}

function int(flag: string, min: number): number {
  const n = Number(values[flag]);
  if (!Number.isSafeInteger(n) || n < min) usage(`--${flag} must be an integer ≥ ${min}`);
  return n;
}
const ROUNDS = int('rounds', 0);
const SECONDS = int('seconds', 1);
const WARMUP = int('warmup', 0);
const CONNECTIONS = int('connections', 1);
const MEMORY = values.memory === true;
const CHECK = values.check === true;
const OUT = String(values.out);
/**
 * `mixed`: alice, bob and carol with the benchmark queries, spread over the connections.
 * `staff-common-word`: carol (staff) only, "chocolate" only: the search that matches most rows.
 */
const WORKLOADS = ['mixed', 'staff-common-word'] as const;
const WORKLOAD = String(values.workload) as (typeof WORKLOADS)[number];
if (!WORKLOADS.includes(WORKLOAD)) usage(`--workload must be one of ${WORKLOADS.join(', ')}`);
const QUERIES =
  typeof values.query === 'string'
    ? [values.query]
    : WORKLOAD === 'staff-common-word'
      ? ['chocolate']
      : [...BENCH_QUERIES];
const names = TARGETS.map((t) => t.name);
const only = typeof values.only === 'string' ? values.only.split(',').map((s) => s.trim()) : names;
for (const n of only) if (!names.includes(n)) usage(`unknown target '${n}' (targets: ${names.join(', ')})`);
/**
 * `--otel <url>`: each selected `ours-*` target also runs traced, as `<name>+otel` (always-on
 * sampler, batch exporter to that OTLP/HTTP endpoint, no OTLP metrics), in the same rounds, so the
 * traced and untraced servers are measured under the same load.
 */
const OTEL = values.otel as string | undefined;
const traced = (t: TargetDef): TargetDef => ({
  ...t,
  name: `${t.name}+otel`,
  env: {
    ...t.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: OTEL as string,
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_METRICS_EXPORTER: 'none',
  },
  what: `${t.what}; traced, spans exported to ${OTEL}`,
});
const chosen = TARGETS.filter((t) => only.includes(t.name));
const SELECTED = OTEL ? [...chosen, ...chosen.filter((t) => t.kind === 'ours').map(traced)] : chosen;
const PROFILED = values['cpu-prof'] as string | undefined;
if (PROFILED !== undefined && !only.includes(PROFILED))
  usage(`--cpu-prof ${PROFILED} is not a selected target`);
const MEMORY_FIRST = 10_000;
const MEMORY_TOTAL = 100_000;

let interrupted = false;
let currentCannon: autocannon.Instance | undefined;
const alive = new Set<Running>();

function onSignal(): void {
  if (interrupted) {
    for (const r of alive) for (const pid of [r.pid, r.proc.pid ?? 0]) if (pid) process.kill(pid, 'SIGKILL');
    process.exit(130);
  }
  interrupted = true;
  process.stderr.write('\ninterrupted: stopping the load and the targets (again to kill)\n');
  currentCannon?.stop();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

function cannon(
  r: Running,
  reqs: readonly { headers: Record<string, string>; body: string }[],
  run: { duration: number } | { amount: number },
): Promise<autocannon.Result> {
  let next = 0;
  return new Promise((resolve, reject) => {
    currentCannon = autocannon(
      {
        url: `${r.base}/mcp`,
        method: 'POST',
        connections: CONNECTIONS,
        timeout: 10,
        ...run,
        setupClient: (client) => {
          const req = reqs[next++ % reqs.length] as { headers: Record<string, string>; body: string };
          client.setHeadersAndBody(req.headers, req.body);
        },
      },
      (err, result) => {
        currentCannon = undefined;
        if (err) reject(err);
        else resolve(result);
      },
    );
  });
}

/** Loads `r` once (with its sessions, when it is a session mode) and reports what autocannon saw. */
async function load(
  r: Running,
  run: { duration: number } | { amount: number },
  sessions: string[] | undefined,
): Promise<autocannon.Result> {
  return cannon(r, connectionRequests(r, QUERIES, CONNECTIONS, sessions), run);
}

function dead(r: Running): string | undefined {
  return r.exited ? `child died (${r.exitReason}): ${r.logTail.slice(-3).join(' | ')}` : undefined;
}

/** Which server code was measured: HEAD and the files under src/ that differ from it. */
function serverSource(): { head: string; modified: string[] } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
      return '';
    }
  };
  const modified = git('status', '--porcelain', '--', 'src')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
  return { head: git('rev-parse', '--short', 'HEAD'), modified };
}

async function main(): Promise<void> {
  const source = serverSource();
  const issuer = await startTestIssuer();
  const dataDir = mkdtempSync(join(tmpdir(), 'sample-mcp-compare-'));
  const dbPath = join(dataDir, 'orders.sqlite');
  const reports = new Map<string, TargetReport>(
    SELECTED.map((def) => [
      def.name,
      { name: def.name, what: def.what, body: '', bytes: 0, rounds: [], logLines: 0, mismatches: [] },
    ]),
  );
  const memory: MemoryReport[] = [];
  let profile: ProfileSummary | undefined;
  let reference: Record<string, string[]> | undefined;
  const started = new Date();

  async function start(def: TargetDef, profDir?: string): Promise<Running> {
    const ctx: StartContext = {
      issuer,
      dataDir,
      dbPath,
      port: await freePort(),
      ...(profDir && { profDir }),
    };
    const r = await startTarget(def, ctx);
    if (WORKLOAD === 'staff-common-word') r.tokens = r.tokens.filter((t) => t.user === 'carol');
    alive.add(r);
    r.proc.once('exit', () => alive.delete(r));
    return r;
  }
  async function stop(r: Running): Promise<void> {
    await stopTarget(r);
    alive.delete(r);
  }
  /**
   * One request per distinct user and query; compares the answers with the first target's.
   * Returns what went wrong (with the child's last log lines), or undefined.
   */
  async function check(r: Running, report: TargetReport): Promise<string | undefined> {
    let problem: string | undefined;
    try {
      const sessions = r.def.wire === 'session' ? await openSessions(r, CONNECTIONS) : undefined;
      const res = await precheck(r, connectionRequests(r, QUERIES, CONNECTIONS, sessions));
      if (sessions) await closeSessions(r, sessions);
      report.body = res.body;
      report.bytes = res.bytes;
      if (res.ok) {
        if (!reference) reference = res.ids;
        else {
          report.mismatches = Object.keys(reference).filter(
            (k) => JSON.stringify(reference?.[k]) !== JSON.stringify(res.ids[k]),
          );
        }
        console.log(
          `${r.def.name}: pre-check ok (HTTP 200, ${res.contentType}, ${res.bytes} bytes` +
            `${report.mismatches.length ? `; DIFFERENT results for ${report.mismatches.join(', ')}` : ''})`,
        );
        return undefined;
      }
      problem = `pre-check: ${res.problem}`;
    } catch (err) {
      problem = `pre-check: ${(err as Error).message}`;
    }
    await new Promise((res) => setTimeout(res, 200)); // let the child's log lines arrive
    if (r.logTail.length > 0) problem += ` — child log: ${r.logTail.slice(-2).join(' | ')}`;
    console.log(`${r.def.name}: FAILED ${problem}`);
    return problem;
  }

  try {
    {
      const store = SqliteOrderStore.open(dbPath);
      const { count } = store.ensureSampleData();
      store.close();
      console.log(
        `compare: ${SELECTED.length} targets, ${CONNECTIONS} connections, ` +
          `${ROUNDS} rounds × ${SECONDS} s ` +
          `(+${WARMUP} s warm-up each)${MEMORY ? ', memory phase' : ''}; ${count} sample orders in ${dbPath}; ` +
          `workload ${WORKLOAD}, queries ${JSON.stringify(QUERIES)}; ${cpus().length} CPUs, Node ${process.version}; server code ` +
          `${source.head}${source.modified.length ? ` + uncommitted ${source.modified.join(' ')}` : ''}`,
      );
    }

    if (MEMORY) {
      console.log(
        `\nmemory: RSS after ${MEMORY_FIRST} and after ${MEMORY_TOTAL} requests, fresh child per target`,
      );
      for (const def of SELECTED) {
        if (interrupted) break;
        const report = reports.get(def.name) as TargetReport;
        let r: Running | undefined;
        try {
          r = await start(def);
          const problem = await check(r, report);
          if (problem) {
            memory.push({ name: def.name, rss10k: 0, rss100k: 0, ratio: 0, errors: 0, failed: problem });
            continue;
          }
          const sessions = def.wire === 'session' ? await openSessions(r, CONNECTIONS) : undefined;
          const a = await load(r, { amount: MEMORY_FIRST }, sessions);
          const rss10k = rssMiB(r.pid);
          const b = await load(r, { amount: MEMORY_TOTAL - MEMORY_FIRST }, sessions);
          if (interrupted) break; // a cut-short run is not a result
          const rss100k = rssMiB(r.pid);
          if (sessions) await closeSessions(r, sessions);
          const m: MemoryReport = {
            name: def.name,
            rss10k,
            rss100k,
            ratio: rss100k / rss10k,
            errors: a.non2xx + a.errors + b.non2xx + b.errors,
          };
          const failed = dead(r);
          if (failed) m.failed = failed;
          memory.push(m);
          console.log(
            `${def.name}: RSS ${rss10k} MiB @10k, ${rss100k} MiB @100k (×${m.ratio.toFixed(2)}), errors ${m.errors}`,
          );
        } catch (err) {
          memory.push({
            name: def.name,
            rss10k: 0,
            rss100k: 0,
            ratio: 0,
            errors: 0,
            failed: (err as Error).message,
          });
          console.log(`${def.name}: memory phase FAILED: ${(err as Error).message}`);
        } finally {
          if (r) await stop(r);
        }
      }
    }

    if (ROUNDS > 0 && !interrupted) {
      const running: Running[] = [];
      const stamp = started.toISOString().replace(/[:.]/g, '-');
      for (const def of SELECTED) {
        const report = reports.get(def.name) as TargetReport;
        try {
          const profDir =
            def.name === PROFILED ? join('bench', 'results', 'prof', `${def.name}-${stamp}`) : undefined;
          const r = await start(def, profDir);
          report.profiled = profDir !== undefined;
          report.failed = await check(r, report);
          if (report.failed) await stop(r);
          else running.push(r);
        } catch (err) {
          report.failed = (err as Error).message;
          console.log(`${def.name}: FAILED to start: ${report.failed}`);
        }
      }
      for (let round = 1; round <= ROUNDS && !interrupted; round++) {
        console.log(`\nround ${round}/${ROUNDS}`);
        // rotate the order every round, so no target always runs right after the same other one
        const order = running.map((_, i) => running[(i + round - 1) % running.length] as Running);
        for (const r of order) {
          if (interrupted) break;
          const report = reports.get(r.def.name) as TargetReport;
          if (report.failed) continue;
          try {
            const sessions = r.def.wire === 'session' ? await openSessions(r, CONNECTIONS) : undefined;
            if (WARMUP > 0) await load(r, { duration: WARMUP }, sessions);
            const res = await load(r, { duration: SECONDS }, sessions);
            if (interrupted) break; // a cut-short run is not a result
            const rss = rssMiB(r.pid);
            if (sessions) await closeSessions(r, sessions);
            const rr: RoundResult = {
              round,
              reqPerSec: res.requests.mean,
              p50: res.latency.p50,
              p99: res.latency.p99,
              requests: res.requests.total,
              non2xx: res.non2xx,
              errors: res.errors,
              timeouts: res.timeouts,
              rssMiB: rss,
            };
            report.rounds.push(rr);
            console.log(
              `  ${r.def.name.padEnd(20)} ${rr.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${rr.p50} ms  ` +
                `p99 ${rr.p99} ms  non-2xx ${rr.non2xx}  errors ${rr.errors}  RSS ${rss} MiB`,
            );
          } catch (err) {
            report.failed = (err as Error).message;
          }
          const failed = dead(r);
          if (failed) report.failed = failed;
          if (report.failed) console.log(`  ${r.def.name}: FAILED: ${report.failed}`);
        }
      }
      for (const r of running) {
        const report = reports.get(r.def.name) as TargetReport;
        report.logLines = r.logLines;
        if (r.logLines > 0)
          console.log(`${r.def.name} logged ${r.logLines} lines, last: ${r.logTail.at(-1)}`);
        await stop(r);
        if (r.profDir) {
          // the busiest thread's profile: the main thread's, not the module loader's
          const summaries = profilesIn(r.profDir).map((f) => summarizeProfile(f));
          profile = summaries.sort((a, b) => b.busyMs - a.busyMs)[0];
          if (!profile) console.log(`${r.def.name}: no .cpuprofile in ${r.profDir} (did it exit cleanly?)`);
        }
      }
    }
  } finally {
    await Promise.all([...alive].map((r) => stopTarget(r)));
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const targets = [...reports.values()];
  const loaded = targets.filter((t) => t.rounds.length > 0);
  const summaries = loaded.map(summarize);
  const rs = ratios(summaries);
  console.log('');
  if (ROUNDS > 0) {
    console.log(throughputTable(targets));
    console.log('');
    if (rs.length > 0) console.log(`${ratioTable(rs)}\n`);
  }
  if (memory.length > 0) console.log(`${memoryTable(memory)}\n`);
  if (profile) console.log(`${formatProfile(profile)}\n`);

  const missed =
    rs.some((r) => !(r.okSdk && r.okPlain && r.okP99)) ||
    memory.some((m) => m.failed || !(m.ratio <= GOALS.memoryRatio)) ||
    targets.some((t) => t.failed || t.rounds.some((r) => r.non2xx + r.errors > 0));
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(
    OUT,
    `${biomeJson({
      date: started.toISOString(),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? '',
        memGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: process.platform,
      },
      server: source,
      options: {
        rounds: ROUNDS,
        seconds: SECONDS,
        warmup: WARMUP,
        connections: CONNECTIONS,
        queries: QUERIES,
        workload: WORKLOAD,
      },
      goals: GOALS,
      targets: targets.map((t) => ({ ...t, median: t.rounds.length ? summarize(t) : undefined })),
      ratios: rs,
      memory,
      profile,
      allTargetsMet: !missed,
      interrupted,
    })}\n`,
  );
  console.log(`results: ${OUT}${missed ? ' (some targets missed)' : ''}`);
  if (interrupted) process.exitCode = 130;
  else if (CHECK && missed) process.exitCode = 1;
}

await main();
