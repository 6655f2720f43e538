/**
 * Load and soak: N concurrent authenticated clients (default 200) mixing stateless search and
 * fetch calls, full 2025 sessions (initialize → tools/list → search → DELETE), 2026-07-28 calls and
 * legacy SSE sessions against the resource server for a fixed time (default 60 s), all on loopback.
 * Reports throughput, latency, errors, and the server's RSS after warm-up and after the run.
 *
 *   npm run bench:soak                       # 200 clients, 10 s warm-up, 60 s run
 *   npm run bench:soak -- --clients 50 --seconds 20 --warmup 5
 *
 * Exits 1 when any request failed or the RSS after the run exceeds the post-warm-up RSS by more
 * than 20 %.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServeChild } from './serveChild.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The server's V8 heap in use (prom-client's default `nodejs_heap_size_used_bytes`), in MiB. */
async function heapUsedMiB(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
  return Math.round(Number(m?.[1] ?? Number.NaN) / 2 ** 20);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function main(): Promise<void> {
  const { base, issuer, child, stop } = await startServeChild('soak');
  try {
    // tsx runs node as a child of its own process: measure the process that listens
    const serverPid = Number(
      readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0] ||
        child.pid,
    );
    const users = ['alice@example.com', 'bob@example.com', 'carol@example.com'];
    const tokens = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        issuer.sign(
          {
            iss: issuer.issuer,
            aud: `${base}/mcp`,
            sub: `soak-${i}`,
            email: users[i % 3],
            scope: 'mcp:tools',
            ...(i % 3 === 2 && { realm_access: { roles: ['staff'] } }),
          },
          { expiresIn: 3600 },
        ),
      ),
    );

    const counts: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const latencies: number[] = [];
    const byKind: Record<string, number[]> = {};
    let measuring = false;
    let stop = false;
    const bump = (m: Record<string, number>, k: string) => {
      m[k] = (m[k] ?? 0) + 1;
    };

    async function timed(kind: string, fn: () => Promise<void>): Promise<void> {
      const t0 = performance.now();
      try {
        await fn();
        if (measuring) {
          bump(counts, kind);
          const ms = performance.now() - t0;
          latencies.push(ms);
          const list = byKind[kind] ?? [];
          list.push(ms);
          byKind[kind] = list;
        }
      } catch (err) {
        if (measuring) bump(errors, `${kind}: ${(err as Error).message.slice(0, 80)}`);
      }
    }
    async function post(
      token: string,
      body: unknown,
      extra: Record<string, string> = {},
      path = '/mcp',
    ): Promise<Response> {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, ...extra },
        body: JSON.stringify(body),
      });
      if (!res.ok && res.status !== 202) throw new Error(`HTTP ${res.status}`);
      return res;
    }
    const call = (name: string, args: Record<string, unknown>, id = 1) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args },
    });

    const actions: [string, number, (t: string) => Promise<void>][] = [
      [
        'search',
        40,
        async (t) =>
          void (await (
            await post(t, call('search', { query: 'chocolate' }), { 'mcp-protocol-version': '2025-11-25' })
          ).text()),
      ],
      [
        'fetch',
        20,
        async (t) =>
          void (await (
            await post(t, call('fetch', { id: 'ord-100100' }), { 'mcp-protocol-version': '2025-11-25' })
          ).text()),
      ],
      [
        'session',
        15,
        async (t) => {
          const init = await post(t, {
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: '2025-11-25',
              capabilities: {},
              clientInfo: { name: 'soak', version: '1' },
            },
          });
          const sid = init.headers.get('mcp-session-id') ?? '';
          await init.text();
          const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
          await (await post(t, { jsonrpc: '2.0', method: 'notifications/initialized' }, h)).text();
          await (await post(t, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, h)).text();
          await (await post(t, call('search', { query: 'vanilla' }, 3), h)).text();
          const del = await fetch(`${base}/mcp`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${t}`, ...h },
          });
          if (!del.ok) throw new Error(`DELETE ${del.status}`);
        },
      ],
      [
        'modern',
        15,
        async (t) => {
          const body = {
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'search', arguments: { query: 'red velvet' }, _meta: META },
          };
          const res = await post(t, body, {
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'search',
          });
          await res.text();
        },
      ],
      [
        'sse',
        10,
        async (t) => {
          const ctrl = new AbortController();
          const res = await fetch(`${base}/sse`, {
            headers: { accept: 'text/event-stream', authorization: `Bearer ${t}` },
            signal: ctrl.signal,
          });
          if (!res.ok || !res.body) throw new Error(`SSE ${res.status}`);
          const reader = res.body.getReader();
          let text = '';
          const decoder = new TextDecoder();
          while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value);
          const endpoint = /data: (\S+)/.exec(text)?.[1];
          if (!endpoint) throw new Error('no endpoint event');
          await (
            await post(
              t,
              {
                jsonrpc: '2.0',
                id: 1,
                method: 'initialize',
                params: {
                  protocolVersion: '2024-11-05',
                  capabilities: {},
                  clientInfo: { name: 'soak', version: '1' },
                },
              },
              {},
              endpoint,
            )
          ).text();
          await (await post(t, call('search', { query: 'lemon' }, 2), {}, endpoint)).text();
          while (!text.includes('"id":2')) text += decoder.decode((await reader.read()).value);
          ctrl.abort();
        },
      ],
    ];
    const total = actions.reduce((n, a) => n + a[1], 0);
    const pick = () => {
      let r = Math.random() * total;
      for (const a of actions) {
        r -= a[1];
        if (r < 0) return a;
      }
      return actions[0] as (typeof actions)[number];
    };

    const clients = Array.from({ length: CLIENTS }, async (_, i) => {
      const token = tokens[i % tokens.length] as string;
      while (!stop) {
        const [kind, , fn] = pick();
        await timed(kind, () => fn(token));
      }
    });

    console.log(
      `soak: ${CLIENTS} clients, warm-up ${WARMUP} s, run ${SECONDS} s against ${base} (server pid ${serverPid})`,
    );
    await new Promise((r) => setTimeout(r, WARMUP * 1000));
    const rssWarm = rssMiB(serverPid);
    const heapWarm = await heapUsedMiB(base);
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(clients);
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfter = rssMiB(serverPid);
    const heapAfter = await heapUsedMiB(base);

    latencies.sort((a, b) => a - b);
    /** The `p`th percentile of ascending `xs` (the soak's own floor-rank definition), 0 when empty. */
    const at = (xs: readonly number[], p: number) =>
      xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
    const pct = (p: number) => at(latencies, p).toFixed(1);
    const done = Object.values(counts).reduce((a, b) => a + b, 0);
    const failed = Object.values(errors).reduce((a, b) => a + b, 0);
    const growth = rssWarm ? (rssAfter - rssWarm) / rssWarm : 0;
    console.log(
      `operations: ${done} in ${elapsed.toFixed(1)} s (${(done / elapsed).toFixed(0)}/s) — ${JSON.stringify(counts)}`,
    );
    console.log(
      `latency per operation (ms): p50 ${pct(50)}, p95 ${pct(95)}, p99 ${pct(99)}, max ${pct(100)}`,
    );
    const kinds = Object.entries(byKind).map(([kind, ms]) => {
      ms.sort((a, b) => a - b);
      return `${kind} ${at(ms, 50).toFixed(0)}/${at(ms, 95).toFixed(0)}`;
    });
    console.log(`p50/p95 ms by operation: ${kinds.join(', ')}`);
    console.log(`errors: ${failed}${failed ? ` ${JSON.stringify(errors)}` : ''}`);
    console.log(
      `server RSS: ${rssWarm} MiB after warm-up, ${rssAfter} MiB after the run (${(growth * 100).toFixed(1)} %); ` +
        `V8 heap in use: ${heapWarm} → ${heapAfter} MiB`,
    );
    const ok = failed === 0 && growth <= 0.2;
    console.log(ok ? 'soak: PASS (zero errors, RSS within 20 %)' : 'soak: FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stop();
  }
}

await main();
