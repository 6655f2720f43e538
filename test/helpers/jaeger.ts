/**
 * A real Jaeger v2 for tests: the binary scripts/provision.ts built (deploy/jaeger/jaeger.sh),
 * started with deploy/jaeger/config.yaml on loopback and free ports, stopped on close. Traces are
 * kept in memory, so every start is empty.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { jaegerBinary } from '../../scripts/provision.js';
import { freePort } from './stack.js';

export interface Jaeger {
  /** OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318` (what `OTEL_EXPORTER_OTLP_ENDPOINT` takes). */
  otlpHttp: string;
  /** The UI and the query API, e.g. `http://127.0.0.1:16686`. */
  queryUrl: string;
  /** What Jaeger printed (for failure messages). */
  output: () => string;
  close(): Promise<void>;
}

/** One span as Jaeger's HTTP API returns it (`GET /api/traces/<id>`). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

/** @param env - further settings, e.g. `JAEGER_UI_ASSETS` (a built Jaeger UI to serve) */
export async function startJaeger(env: Record<string, string> = {}): Promise<Jaeger> {
  const [grpc, http, query, queryGrpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  let out = '';
  const child: ChildProcess = spawn(
    jaegerBinary(),
    ['--config', join(process.cwd(), 'deploy', 'jaeger', 'config.yaml')],
    {
      env: {
        ...process.env,
        JAEGER_HOST: '127.0.0.1',
        JAEGER_OTLP_GRPC_PORT: String(grpc),
        JAEGER_OTLP_HTTP_PORT: String(http),
        JAEGER_QUERY_PORT: String(query),
        JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const queryUrl = `http://127.0.0.1:${query}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jaeger exited at start:\n${out}`);
    const up = await fetch(`${queryUrl}/api/services`).then(
      (r) => r.ok,
      () => false,
    );
    // The receivers start after the query extension: wait for the OTLP port as well.
    const otlp = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', body: '' }).then(
      () => true,
      () => false,
    );
    if (up && otlp) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`jaeger did not start in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    otlpHttp: `http://127.0.0.1:${http}`,
    queryUrl,
    output: () => out,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The spans of one trace once at least `min` have arrived (batches land a little after the export). */
export async function traceSpans(jaeger: Jaeger, traceId: string, min: number): Promise<JaegerSpan[]> {
  const deadline = Date.now() + 15_000;
  let spans: JaegerSpan[] = [];
  for (;;) {
    const res = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`);
    if (res.ok) {
      const body = (await res.json()) as { data: { spans: JaegerSpan[] }[] };
      spans = body.data.flatMap((t) => t.spans);
      if (spans.length >= min) return spans;
    } else {
      await res.body?.cancel();
    }
    if (Date.now() > deadline) return spans;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}
