/**
 * How long one user's JSON-RPC batch of searches holds up everyone else. Starts `npm run serve`
 * (as bench:soak does) behind a test issuer, then, several times: sends one batch of `--size`
 * `tools/call search` requests (staff token, `--query`, default "chocolate") while another client
 * asks `/healthz` every 2 ms; reports the batch's duration and the slowest `/healthz` answer
 * during it (the event loop was blocked at least that long), next to a quiet baseline.
 *
 *   npx tsx bench/batch.ts                  # 100 searches per batch, 10 batches
 *   npx tsx bench/batch.ts --size 20 --runs 5
 */
import { parseArgs } from 'node:util';
import { startServeChild } from './serveChild.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '100' },
    runs: { type: 'string', default: '10' },
    query: { type: 'string', default: 'chocolate' },
  },
});
const SIZE = Number(values.size);
const RUNS = Number(values.runs);
if (!Number.isSafeInteger(SIZE) || SIZE < 1 || !Number.isSafeInteger(RUNS) || RUNS < 1) {
  process.stderr.write('usage: npx tsx bench/batch.ts [--size 100] [--runs 10] [--query chocolate]\n');
  process.exit(2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const { base, issuer, stop } = await startServeChild('batch');
  try {
    const token = await issuer.sign(
      {
        iss: issuer.issuer,
        aud: `${base}/mcp`,
        sub: 'batch-staff',
        email: 'carol@example.com',
        scope: 'mcp:tools',
        realm_access: { roles: ['staff'] },
      },
      { expiresIn: 3600 },
    );
    const batch = JSON.stringify(
      Array.from({ length: SIZE }, (_, id) => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'search', arguments: { query: values.query } },
      })),
    );
    const send = async () => {
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
        body: batch,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`batch: HTTP ${res.status} ${text.slice(0, 200)}`);
    };
    /** The slowest /healthz answer while `during` runs (or for `quietMs` when there is nothing). */
    const probe = async (during: () => Promise<void>): Promise<{ took: number; worstHealthz: number }> => {
      let done = false;
      let worst = 0;
      const prober = (async () => {
        while (!done) {
          const t = performance.now();
          await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
          worst = Math.max(worst, performance.now() - t);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const t0 = performance.now();
      await during();
      const took = performance.now() - t0;
      done = true;
      await prober;
      return { took, worstHealthz: worst };
    };
    await send(); // warm-up
    const quiet: number[] = [];
    const took: number[] = [];
    const blocked: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      quiet.push((await probe(() => new Promise((r) => setTimeout(r, 200)))).worstHealthz);
      const r = await probe(send);
      took.push(r.took);
      blocked.push(r.worstHealthz);
    }
    const f = (n: number) => n.toFixed(1);
    console.log(`batch of ${SIZE} × search ${JSON.stringify(values.query)} (staff), ${RUNS} runs, ${base}`);
    console.log('| | median ms | max ms |');
    console.log('|---|---:|---:|');
    console.log(`| batch duration | ${f(median(took))} | ${f(Math.max(...took))} |`);
    console.log(`| slowest /healthz during the batch | ${f(median(blocked))} | ${f(Math.max(...blocked))} |`);
    console.log(`| slowest /healthz, quiet | ${f(median(quiet))} | ${f(Math.max(...quiet))} |`);
  } finally {
    await stop();
  }
}

await main();
