/**
 * Load and abuse: do honest users keep their latency while others attack? Starts `npm start` (the
 * embedded authorization server and the MCP server in one process, default limits), signs in
 * alice, bob and carol through the real login form, then measures alice's and bob's searches (each
 * one every 200 ms) twice for `--seconds`: quiet, and while
 *
 * - a login flood: 16 concurrent login posts with random e-mails, from `--spread` loopback
 *   addresses (127.0.0.2 …), so the per-address budget alone does not stop it;
 * - carol (a signed-in staff user) opens legacy SSE streams and sessions without end and sends
 *   batches of 100 staff searches back to back.
 *
 *   npm run bench:abuse                          # 20 s per phase, flood from 20 addresses
 *   npm run bench:abuse -- --seconds 10 --spread 1
 *   npm run bench:abuse -- --attack logins       # only the login flood (or: streams)
 *
 * The attacks run in a process of their own (the same machine: the two share its cores). Prints a
 * table (markdown) and exits 1 when the honest p95 under attack is over 2 × the quiet one
 * or an honest search failed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { obtainToken } from '../src/idp/client.js';
import { openLoginForm, submitLogin } from '../test/helpers/loginForm.js';
import { INIT_BODY } from '../test/helpers/stack.js';
import { startStackChild } from './serveChild.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    spread: { type: 'string', default: '20' },
    attack: { type: 'string', default: 'all' },
    /** Internal: `attacker` runs the attacks (in a process of their own, see main). */
    role: { type: 'string', default: 'measure' },
  },
});
const SECONDS = Number(values.seconds);
const SPREAD = Number(values.spread);
const ATTACK = values.attack;
if (
  !Number.isSafeInteger(SECONDS) ||
  SECONDS < 1 ||
  !Number.isSafeInteger(SPREAD) ||
  SPREAD < 1 ||
  SPREAD > 200 ||
  !['all', 'logins', 'streams'].includes(ATTACK)
) {
  process.stderr.write(
    'usage: npx tsx bench/abuse.ts [--seconds 20] [--spread 20] [--attack all|logins|streams]\n',
  );
  process.exit(2);
}

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};
const QUERIES = ['chocolate', 'vanilla', 'lemon', 'birthday', 'red velvet'];
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts of answers by label (status codes, outcomes). */
class Tally {
  readonly counts = new Map<string, number>();
  add(label: string | number): void {
    this.counts.set(String(label), (this.counts.get(String(label)) ?? 0) + 1);
  }
  toString(): string {
    return [...this.counts].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
  static from(counts: Record<string, number> | undefined): Tally {
    const t = new Tally();
    for (const [k, v] of Object.entries(counts ?? {})) t.counts.set(k, v);
    return t;
  }
}

const searchBody = (id: number, query: string) =>
  ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search', arguments: { query } } }) as const;

/** One honest user: a search every 200 ms until `until`; latencies in ms, failures counted. */
async function honest(mcpUrl: string, token: string, until: number, failures: Tally): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; Date.now() < until; i++) {
    const started = performance.now();
    try {
      const res = await fetch(mcpUrl, {
        method: 'POST',
        headers: { ...HEADERS, authorization: `Bearer ${token}` },
        body: JSON.stringify(searchBody(i, QUERIES[i % QUERIES.length] as string)),
      });
      const text = await res.text();
      if (res.status !== 200 || text.includes('"isError":true')) failures.add(res.status);
    } catch (err) {
      failures.add((err as Error).message);
    }
    const took = performance.now() - started;
    latencies.push(took);
    await sleep(Math.max(0, 200 - took));
  }
  return latencies;
}

/** 16 concurrent login posts with random e-mails from `SPREAD` addresses until `until`. */
async function loginFlood(issuer: string, mcpUrl: string, until: number, answers: Tally): Promise<void> {
  const form = await openLoginForm(issuer, mcpUrl);
  let n = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        const i = n++;
        const email = `flood-${randomBytes(6).toString('hex')}@example.com`;
        const localAddress = `127.0.0.${2 + (i % SPREAD)}`;
        const res = await submitLogin(issuer, form, { email, password: 'guess' }, { localAddress }).catch(
          () => ({ status: 'error' }),
        );
        answers.add(res.status);
      }
    }),
  );
}

/** Carol: SSE streams and sessions without end, and batches of 100 staff searches back to back. */
async function streamsAndBatches(
  base: string,
  token: string,
  until: number,
  tallies: { streams: Tally; sessions: Tally; batches: Tally },
): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const aborts: AbortController[] = [];
  const streams = (async () => {
    while (Date.now() < until) {
      const ctrl = new AbortController();
      aborts.push(ctrl);
      const res = await fetch(`${base}/sse`, {
        headers: { accept: 'text/event-stream', ...auth },
        signal: ctrl.signal,
      }).catch(() => undefined);
      tallies.streams.add(res?.status ?? 'error');
      const init = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { ...HEADERS, ...auth },
        body: JSON.stringify(INIT_BODY()),
      }).catch(() => undefined);
      await init?.arrayBuffer();
      tallies.sessions.add(init?.status ?? 'error');
      await sleep(50);
    }
  })();
  const batch = JSON.stringify(
    Array.from({ length: 100 }, (_, i) => searchBody(i, QUERIES[i % QUERIES.length] as string)),
  );
  const batches = (async () => {
    while (Date.now() < until) {
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { ...HEADERS, ...auth },
        body: batch,
      }).catch(() => undefined);
      await res?.arrayBuffer();
      tallies.batches.add(res?.status ?? 'error');
    }
  })();
  await Promise.all([streams, batches]);
  for (const ctrl of aborts) ctrl.abort();
}

interface Target {
  base: string;
  issuer: string;
  carol: string;
}

/** The attacker process: runs the chosen attacks for SECONDS, prints its tallies as JSON. */
async function attacker(target: Target): Promise<void> {
  const until = Date.now() + SECONDS * 1000;
  const logins = new Tally();
  const tallies = { streams: new Tally(), sessions: new Tally(), batches: new Tally() };
  await Promise.all([
    ...(ATTACK !== 'streams' ? [loginFlood(target.issuer, `${target.base}/mcp`, until, logins)] : []),
    ...(ATTACK !== 'logins' ? [streamsAndBatches(target.base, target.carol, until, tallies)] : []),
  ]);
  process.stdout.write(`${JSON.stringify({ logins, ...tallies })}\n`);
}

/**
 * Runs the attacks in a child process, so the honest clients' latencies are not those of a load
 * generator's busy event loop.
 */
function attackFromElsewhere(target: Target): Promise<Record<string, Tally>> {
  const child = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'tsx'),
    [
      join(process.cwd(), 'bench', 'abuse.ts'),
      '--role',
      'attacker',
      '--seconds',
      String(SECONDS),
      '--spread',
      String(SPREAD),
      '--attack',
      ATTACK,
    ],
    { env: { ...process.env, ABUSE_TARGET: JSON.stringify(target) }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`attacker exited ${code}`));
      const parsed = JSON.parse(last) as Record<string, Record<string, number>>;
      resolve(Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Tally.from(v)])));
    });
  });
}

async function main(): Promise<void> {
  const stack = await startStackChild('abuse');
  const mcpUrl = `${stack.base}/mcp`;
  try {
    const signIn = async (email: string, password: string) =>
      (await obtainToken({ issuer: stack.issuer, resource: mcpUrl, email, password })).access_token;
    const [alice, bob, carol] = [
      await signIn('alice@example.com', 'alice-dev-password'),
      await signIn('bob@example.com', 'bob-dev-password'),
      await signIn('carol@example.com', 'carol-dev-password'),
    ];
    const target: Target = { base: stack.base, issuer: stack.issuer, carol };
    const phase = async (attack: boolean) => {
      const failures = new Tally();
      const attacks = attack ? attackFromElsewhere(target) : Promise.resolve({} as Record<string, Tally>);
      if (attack) await sleep(1000); // the attacker process starting up
      const until = Date.now() + (attack ? SECONDS - 2 : SECONDS) * 1000;
      const latencies = (
        await Promise.all([alice, bob].map((t) => honest(mcpUrl, t, until, failures)))
      ).flat();
      return { latencies, failures, tallies: await attacks };
    };
    await phase(false); // warm-up (also the quiet run's caches)
    const quiet = await phase(false);
    const attacked = await phase(true);
    const f = (n: number) => n.toFixed(1);
    const row = (name: string, r: { latencies: number[]; failures: Tally }) =>
      `| ${name} | ${r.latencies.length} | ${f(percentile(r.latencies, 50))} | ${f(percentile(r.latencies, 95))} | ${f(Math.max(...r.latencies))} | ${r.failures} |`;
    const ratio = percentile(attacked.latencies, 95) / percentile(quiet.latencies, 95);
    console.log(
      `abuse (${ATTACK}): ${SECONDS} s per phase, honest users alice and bob (a search every 200 ms each), ${stack.base}`,
    );
    console.log('| phase | honest searches | p50 ms | p95 ms | max ms | failed |');
    console.log('|---|---:|---:|---:|---:|---|');
    console.log(row('quiet', quiet));
    console.log(row('under attack', attacked));
    console.log(`\nlogin flood (16 concurrent, ${SPREAD} addresses): ${attacked.tallies.logins ?? 'none'}`);
    console.log(
      `carol's legacy SSE streams: ${attacked.tallies.streams ?? 'none'}; sessions: ${attacked.tallies.sessions ?? 'none'}`,
    );
    console.log(`carol's batches of 100 staff searches: ${attacked.tallies.batches ?? 'none'}`);
    const ok = ratio <= 2 && quiet.failures.counts.size === 0 && attacked.failures.counts.size === 0;
    console.log(`\nhonest p95 under attack / quiet: ${ratio.toFixed(2)} (limit 2): ${ok ? 'PASS' : 'FAIL'}`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

if (values.role === 'attacker') await attacker(JSON.parse(process.env.ABUSE_TARGET ?? '{}') as Target);
else await main();
