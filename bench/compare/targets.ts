/**
 * The targets bench/compare.ts loads, how each one's child process is started and stopped, and the
 * exact requests (headers and body per autocannon connection) each one gets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestIssuer } from '../../test/helpers/issuer.js';
import { USERS } from '../../test/helpers/stack.js';

export type Wire = 'stateless' | 'session' | 'modern';

export interface TargetDef {
  name: string;
  kind: 'plain' | 'sdk' | 'ours';
  wire: Wire;
  /** Extra environment of the child. */
  env?: Record<string, string>;
  what: string;
}

export const TARGETS: readonly TargetDef[] = [
  { name: 'plain', kind: 'plain', wire: 'stateless', what: 'node:http + jose + store, no SDK (floor)' },
  {
    name: 'sdk-stateless',
    kind: 'sdk',
    wire: 'stateless',
    what: 'SDK createMcpHandler, new McpServer per request',
  },
  {
    name: 'ours-stateless-json',
    kind: 'ours',
    wire: 'stateless',
    env: { MCP_RESPONSE_MODE: 'json' },
    what: 'this server, 2025-11-25 without session, MCP_RESPONSE_MODE=json',
  },
  {
    name: 'ours-stateless-sse',
    kind: 'ours',
    wire: 'stateless',
    env: { MCP_RESPONSE_MODE: 'sse' },
    what: 'this server, 2025-11-25 without session, MCP_RESPONSE_MODE=sse',
  },
  {
    name: 'ours-session-json',
    kind: 'ours',
    wire: 'session',
    env: { MCP_RESPONSE_MODE: 'json' },
    what: 'this server, one 2025-11-25 session per connection, MCP_RESPONSE_MODE=json',
  },
  {
    name: 'ours-session-sse',
    kind: 'ours',
    wire: 'session',
    env: { MCP_RESPONSE_MODE: 'sse' },
    what: 'this server, one 2025-11-25 session per connection, MCP_RESPONSE_MODE=sse',
  },
  { name: 'ours-2026', kind: 'ours', wire: 'modern', what: 'this server, 2026-07-28 per-request envelope' },
];

/** Users the tokens are minted for (customers alice and bob, staff carol). */
const TOKEN_USERS = ['alice', 'bob', 'carol'] as const;
/** Distinct tokens per user (different `jti`), so no single token is verified over and over. */
const TOKENS_PER_USER = 2;

export const BASE_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

export interface Running {
  def: TargetDef;
  base: string;
  proc: ChildProcess;
  /** The process that listens (tsx runs node as a child of its own process). */
  pid: number;
  exited: boolean;
  exitReason?: string;
  /** Output lines of the child (logs at warn level and above), and the last few of them. */
  logLines: number;
  logTail: string[];
  tokens: { user: string; token: string }[];
  profDir?: string;
}

export interface StartContext {
  issuer: TestIssuer;
  dataDir: string;
  dbPath: string;
  port: number;
  /** Start under `node --cpu-prof` writing into this directory. */
  profDir?: string;
}

const ROOT = process.cwd();

function scriptOf(def: TargetDef): string {
  if (def.kind === 'ours') return join(ROOT, 'src', 'cli', 'serve.ts');
  return join(ROOT, 'bench', 'compare', def.kind === 'plain' ? 'plain.ts' : 'sdk.ts');
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Math.round(Number(m?.[1] ?? 0) / 1024);
  } catch {
    return Number.NaN;
  }
}

function childPid(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return Number(kids[0]) || pid;
  } catch {
    return pid;
  }
}

export async function startTarget(def: TargetDef, ctx: StartContext): Promise<Running> {
  const base = `http://127.0.0.1:${ctx.port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(ctx.port),
    HOST: '127.0.0.1',
    MCP_SERVER_URL: base,
    KC_ISSUER: ctx.issuer.issuer,
  };
  if (def.kind === 'ours') {
    Object.assign(env, {
      DATA_DIR: ctx.dataDir,
      LOG_LEVEL: 'warn',
      MCP_RATE_LIMIT_PER_MINUTE: '0',
      ...def.env,
    });
  } else {
    Object.assign(env, { KC_JWKS_URL: ctx.issuer.jwksUrl, ORDERS_DB: ctx.dbPath });
  }
  const script = scriptOf(def);
  let proc: ChildProcess;
  if (ctx.profDir) {
    mkdirSync(ctx.profDir, { recursive: true });
    proc = spawn(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${ctx.profDir}`, '--import', 'tsx', script],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } else {
    // like bench/soak.ts starts the server
    proc = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const r: Running = {
    def,
    base,
    proc,
    pid: proc.pid ?? 0,
    exited: false,
    logLines: 0,
    logTail: [],
    tokens: [],
    ...(ctx.profDir && { profDir: ctx.profDir }),
  };
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      r.logLines += 1;
      r.logTail.push(line.slice(0, 300));
      if (r.logTail.length > 10) r.logTail.shift();
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  proc.once('exit', (code, signal) => {
    r.exited = true;
    r.exitReason = signal ? `signal ${signal}` : `exit code ${code}`;
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (r.exited)
      throw new Error(`${def.name} exited during start-up (${r.exitReason}): ${r.logTail.join(' | ')}`);
    const ok = await fetch(`${base}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${def.name} did not answer /healthz within 60 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
  r.pid = ctx.profDir ? (proc.pid ?? 0) : childPid(proc.pid ?? 0);

  // interleaved: alice, bob, carol, alice, bob, carol
  for (let k = 0; k < TOKENS_PER_USER; k++) {
    for (const user of TOKEN_USERS) {
      const u = USERS[user];
      const token = await ctx.issuer.sign(
        {
          iss: ctx.issuer.issuer,
          aud: `${base}/mcp`,
          sub: u.sub,
          azp: 'bench-compare',
          scope: 'openid email mcp:tools',
          ...(u.email && { email: u.email }),
          realm_access: { roles: u.roles },
          typ: 'Bearer',
          jti: randomUUID(),
        },
        { expiresIn: 6 * 3600 },
      );
      r.tokens.push({ user, token });
    }
  }
  return r;
}

export async function stopTarget(r: Running): Promise<void> {
  if (r.exited) return;
  const exited = new Promise<void>((resolve) => r.proc.once('exit', () => resolve()));
  r.proc.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    for (const pid of new Set([r.pid, r.proc.pid ?? 0])) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  }
}

/**
 * The `.cpuprofile` files a profiled child wrote: one per thread (under `--import tsx` the module
 * loader runs in a worker thread of its own); the main thread's is `CPU.<date>.<time>.<pid>.0.<n>`.
 */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

/** One autocannon connection's request. */
export interface ConnRequest {
  user: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

function callBody(def: TargetDef, query: string, id: number | string = 1): string {
  const params: Record<string, unknown> = { name: 'search', arguments: { query } };
  if (def.wire === 'modern') params._meta = META;
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
}

function wireHeaders(def: TargetDef, sessionId?: string): Record<string, string> {
  if (def.wire === 'modern') {
    return { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'search' };
  }
  return { 'mcp-protocol-version': '2025-11-25', ...(sessionId && { 'mcp-session-id': sessionId }) };
}

/**
 * The request of every connection: connection `c` uses token `c mod tokens` and query
 * `c mod queries`, so every target gets the same mix of users and queries.
 */
export function connectionRequests(
  r: Running,
  queries: readonly string[],
  connections: number,
  sessionIds?: readonly string[],
): ConnRequest[] {
  return Array.from({ length: connections }, (_, c) => {
    const { user, token } = r.tokens[c % r.tokens.length] as { user: string; token: string };
    const query = queries[c % queries.length] as string;
    return {
      user,
      query,
      headers: { ...BASE_HEADERS, authorization: `Bearer ${token}`, ...wireHeaders(r.def, sessionIds?.[c]) },
      body: callBody(r.def, query),
    };
  });
}

async function post(r: Running, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`${r.base}/mcp`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Opens one 2025-11-25 session per connection (initialize + notifications/initialized). */
export async function openSessions(r: Running, connections: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const { token } = r.tokens[c % r.tokens.length] as { token: string };
      const headers = { ...BASE_HEADERS, authorization: `Bearer ${token}` };
      const init = await post(r, headers, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'bench-compare', version: '1' },
        },
      });
      const sid = init.headers.get('mcp-session-id');
      const text = await init.text();
      if (!init.ok || !sid) throw new Error(`initialize: HTTP ${init.status} ${text.slice(0, 200)}`);
      const h = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
      const note = await post(r, h, { jsonrpc: '2.0', method: 'notifications/initialized' });
      await note.text();
      if (note.status !== 202 && !note.ok) throw new Error(`notifications/initialized: HTTP ${note.status}`);
      return sid;
    }),
  );
}

export async function closeSessions(r: Running, sessionIds: readonly string[]): Promise<void> {
  await Promise.all(
    sessionIds.map(async (sid, c) => {
      const { token } = r.tokens[c % r.tokens.length] as { token: string };
      const res = await fetch(`${r.base}/mcp`, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${token}`,
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-11-25',
        },
      }).catch(() => undefined);
      await res?.text();
    }),
  );
}

/** Reads the JSON-RPC message of a JSON or single-event SSE response. */
function rpcMessage(text: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .find((l) => l.trim() !== '');
    if (!data) throw new Error(`no data event in ${text.slice(0, 200)}`);
    return JSON.parse(data);
  }
  return JSON.parse(text);
}

export interface PrecheckResult {
  ok: boolean;
  /** `json` or `sse`: how the target answered. */
  body: string;
  contentType: string;
  bytes: number;
  /** Result ids per `user|query`, to compare the targets' answers. */
  ids: Record<string, string[]>;
  problem?: string;
}

/** Sends every connection's request once and checks for 200 and a tools/call result. */
export async function precheck(r: Running, reqs: readonly ConnRequest[]): Promise<PrecheckResult> {
  const out: PrecheckResult = { ok: true, body: '', contentType: '', bytes: 0, ids: {} };
  for (const req of reqs) {
    const key = `${req.user}|${req.query}`;
    if (key in out.ids) continue;
    const res = await fetch(`${r.base}/mcp`, { method: 'POST', headers: req.headers, body: req.body });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    out.contentType ||= type;
    out.body ||= type.includes('text/event-stream') ? 'sse' : type.includes('json') ? 'json' : type;
    out.bytes ||= Buffer.byteLength(text);
    try {
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const msg = rpcMessage(text, type);
      const result = msg.result as
        | { isError?: boolean; structuredContent?: { results?: { id: string }[] } }
        | undefined;
      if (!result) throw new Error('no result');
      if (result.isError) throw new Error('tool error');
      const results = result.structuredContent?.results;
      if (!Array.isArray(results)) throw new Error('no structuredContent.results');
      out.ids[key] = results.map((x) => x.id);
    } catch (err) {
      return { ...out, ok: false, problem: `${(err as Error).message}: ${text.slice(0, 300)}` };
    }
  }
  return out;
}
