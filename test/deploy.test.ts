/**
 * The container deployment, checked without a Docker engine:
 * - deploy/compose.yaml loads with compose-go, the loader Docker Compose uses (deploy/compose-check),
 *   and the resolved model has what the stack depends on: the MCP server's configuration (accepted by
 *   the real config loader), the realm's placeholders, streaming-safe Traefik settings, discovery routes;
 * - the Dockerfile passes hadolint;
 * - the image's CMD, run in a copy of the files the Dockerfile copies, serves the readiness checks,
 *   its HEALTHCHECK command passes, and SIGTERM (docker stop) stops it with exit 0.
 * Needs `go` with the compose checker's modules and `hadolint` (`npm test` provisions them into the
 * cache); each part is skipped locally without them and fails in CI.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { component } from '../scripts/provision.js';
import { loadConfig } from '../src/config/config.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { requirements } from './helpers/requirements.js';
import { freePort } from './helpers/stack.js';

const ROOT = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'sample-mcp-deploy-'));
after(() => rmSync(work, { recursive: true, force: true }));

// ---- Dockerfile parsing (enough for this project's Dockerfile) --------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (buf === '' && line === '')) continue;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1).trim()} `;
      continue;
    }
    buf += line;
    const m = /^(\S+)\s*(.*)$/s.exec(buf.trim());
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() });
    buf = '';
  }
  return out;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const lastFrom = dockerfile.map((i) => i.keyword).lastIndexOf('FROM');
const runtime = dockerfile.slice(lastFrom);

function execForm(keyword: string): string[] {
  const found = runtime.filter((i) => i.keyword === keyword).at(-1);
  assert.ok(found, `the runtime stage has a ${keyword}`);
  const json =
    keyword === 'HEALTHCHECK' ? found.args.slice(found.args.indexOf('CMD') + 3).trim() : found.args;
  assert.ok(json.startsWith('['), `${keyword} is in exec (JSON) form: ${json}`);
  const argv = JSON.parse(json) as unknown;
  assert.ok(Array.isArray(argv) && argv.every((a) => typeof a === 'string'));
  return argv as string[];
}

// ---- compose-check ----------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  ports?: { host_ip?: string; target: number; published: string }[];
}
interface ComposeReport {
  ok: boolean;
  services: string[];
  notes: string[];
  project: { name: string; services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  mounts: Record<string, unknown>;
}

const checker = join(work, 'compose-check');
function composeCheck(...args: string[]) {
  return spawnSync(checker, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

/** The resolved project with .env.example and a profile's env file (it sets COMPOSE_PROFILES). */
function withProfile(envFile: string): ComposeReport {
  const r = composeCheck(
    '--file',
    'deploy/compose.yaml',
    '--env-file',
    'deploy/.env.example',
    '--env-file',
    `deploy/${envFile}`,
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ComposeReport;
}

// Loose access to parsed YAML.
// biome-ignore lint/suspicious/noExplicitAny: parsed Traefik YAML has no type
type Yaml = any;

const goBin = component('go').find() ?? 'go';
const hadolint = component('hadolint').find() ?? 'hadolint';

describe('deploy/compose.yaml (compose-go)', {
  skip: requirements('deploy/compose.yaml with compose-go', ['go', 'compose-modules']),
}, () => {
  let report: ComposeReport;
  let services: Record<string, ComposeService>;
  let traefikStatic: Yaml;
  let traefikDynamic: Yaml;

  before(
    () => {
      // Go's build cache makes this ~1 s after the first build (which downloads compose-go once).
      const build = spawnSync(
        goBin,
        ['-C', 'deploy/compose-check', 'build', '-buildvcs=false', '-o', checker, '.'],
        { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
      );
      assert.equal(build.status, 0, `go build ./deploy/compose-check failed:\n${build.stderr}`);
      const r = composeCheck('--file', 'deploy/compose.yaml', '--env-file', 'deploy/.env.example', '--json');
      assert.equal(r.status, 0, `compose-check --json failed:\n${r.stderr}`);
      report = JSON.parse(r.stdout) as ComposeReport;
      services = report.project.services;
      traefikStatic = report.mounts['traefik/traefik.yml'];
      traefikDynamic = report.mounts['traefik/dynamic.yml'];
    },
    { timeout: 320_000 },
  );

  test('valid with .env.example; lists the four services', () => {
    const r = composeCheck('--file', 'deploy/compose.yaml', '--env-file', 'deploy/.env.example');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /is valid: project "sample-mcp"/);
    for (const name of ['keycloak', 'mcp', 'postgres', 'traefik'])
      assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
    assert.equal(report.ok, true);
    assert.equal(report.project.name, 'sample-mcp');
    assert.deepEqual(report.services, ['keycloak', 'mcp', 'postgres', 'traefik']);
    // The only prerequisite: the mkcert certificate (unless this machine has made one).
    for (const note of report.notes) assert.match(note, /bind source certs does not exist/);
  });

  test('without settings it refuses, naming the missing secrets (no empty passwords)', () => {
    const r = composeCheck('--file', 'deploy/compose.yaml', '--env-file', '/dev/null');
    assert.equal(r.status, 1);
    for (const v of ['POSTGRES_PASSWORD', 'KC_BOOTSTRAP_ADMIN_PASSWORD', 'KC_ALICE_PASSWORD']) {
      assert.match(
        r.stderr,
        new RegExp(`required variable ${v} is missing a value: set ${v} in deploy/.env`),
      );
    }
    assert.match(r.stderr, /is NOT valid/);
  });

  test('the MCP server: built from the Dockerfile, public https URLs, keys over the private network', () => {
    const mcp = services.mcp as ComposeService;
    assert.deepEqual(mcp.build, { context: ROOT, dockerfile: 'Dockerfile' });
    const env = mcp.environment as Record<string, string>;
    assert.equal(env.MCP_SERVER_URL, 'https://mcp.localhost');
    assert.equal(env.KC_ISSUER, 'https://auth.localhost/realms/mcp');
    assert.equal(env.KC_JWKS_URL, 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs');
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.DATA_DIR, '/data');
    // The server's own configuration loader accepts it (production refuses plain-http public URLs).
    const config = loadConfig(env);
    assert.equal(config.production, true);
    assert.equal(config.serverUrl, 'https://mcp.localhost');
    assert.equal(config.jwksUrl, env.KC_JWKS_URL);
    assert.equal(config.ordersDb, '/data/orders.sqlite');
    // …and accepts exactly the audiences Keycloak's realm puts into tokens.
    const kcEnv = services.keycloak?.environment as Record<string, string>;
    assert.deepEqual(config.audiences, [kcEnv.MCP_AUDIENCE, kcEnv.MCP_ALT_AUDIENCE]);
    assert.deepEqual(config.audiences, ['https://mcp.localhost', 'https://mcp.localhost/mcp']);

    const data = mcp.volumes?.find((v) => v.target === '/data');
    assert.equal(data?.type, 'volume');
    assert.ok(data && data.source in report.project.volumes, 'DATA_DIR is a named volume');
    assert.match((mcp.healthcheck?.test ?? []).join(' '), new RegExp(`127\\.0\\.0\\.1:${env.PORT}/healthz`));
    assert.equal(mcp.depends_on?.keycloak?.condition, 'service_healthy');
  });

  test('profile scale: MCP_REPLICAS replicas on PostgreSQL and Redis, configured as the server expects', () => {
    const scaled = withProfile('scale.env.example');
    // COMPOSE_PROFILES=scale in the env file enables the two services, as in Docker Compose.
    assert.deepEqual(scaled.services, ['keycloak', 'mcp', 'orders-db', 'postgres', 'redis', 'traefik']);
    const mcp = scaled.project.services.mcp as ComposeService & { deploy?: { replicas?: number } };
    assert.equal(mcp.deploy?.replicas, 3);
    const env = mcp.environment as Record<string, string>;
    // The signing key is left for the user to generate: without it the server refuses to start.
    assert.equal(env.MCP_SESSION_SECRET, '');
    assert.throws(() => loadConfig(env), /MCP_SESSION_SECRET: is not set, but REDIS_URL is/);
    // With one, the server's own loader accepts the scaled configuration.
    const config = loadConfig({ ...env, MCP_SESSION_SECRET: 'x'.repeat(48) });
    assert.equal(config.ordersStore, 'postgres');
    assert.equal(config.redisUrl, 'redis://redis:6379/0');
    const db = new URL(config.databaseUrl ?? '');
    assert.equal(db.hostname, 'orders-db');
    const ordersDb = scaled.project.services['orders-db'] as ComposeService;
    const dbEnv = ordersDb.environment as Record<string, string>;
    assert.equal(
      decodeURIComponent(db.password),
      dbEnv.POSTGRES_PASSWORD,
      'the URL carries the database password',
    );
    assert.equal(db.pathname, `/${dbEnv.POSTGRES_DB}`);
    assert.equal(mcp.depends_on?.['orders-db']?.condition, 'service_healthy');
    assert.equal(mcp.depends_on?.redis?.condition, 'service_healthy');
    // Replicas reach the database and Redis on an internal network; neither publishes a port.
    for (const name of ['orders-db', 'redis']) {
      const svc = scaled.project.services[name] as ComposeService & { ports?: unknown[]; networks?: object };
      assert.ok(!svc.ports?.length, `${name} publishes no port`);
      assert.deepEqual(Object.keys(svc.networks ?? {}), ['state']);
    }
    assert.ok(Object.keys((mcp as { networks?: object }).networks ?? {}).includes('state'));
    const networks = (scaled.project as unknown as { networks: Record<string, { internal?: boolean }> })
      .networks;
    assert.equal(networks.state?.internal, true);

    // Without the profile: one replica, SQLite, state in memory, and the two services not started.
    assert.deepEqual(report.services, ['keycloak', 'mcp', 'postgres', 'traefik']);
    const single = loadConfig(services.mcp?.environment as Record<string, string>);
    assert.equal(single.ordersStore, 'sqlite');
    assert.equal(single.redisUrl, undefined);
  });

  test('Keycloak 26.7.3 in start mode on PostgreSQL, realm import with every placeholder set', () => {
    const kc = services.keycloak as ComposeService;
    assert.equal(kc.image, 'quay.io/keycloak/keycloak:26.7.3');
    assert.deepEqual(kc.command, ['start', '--import-realm']);
    const env = kc.environment as Record<string, string>;
    assert.equal(env.KC_HOSTNAME, 'https://auth.localhost');
    assert.equal(env.KC_HTTP_ENABLED, 'true');
    assert.equal(env.KC_PROXY_HEADERS, 'xforwarded');
    assert.equal(env.KC_HEALTH_ENABLED, 'true');
    assert.equal(env.KC_DB, 'postgres');
    assert.equal(env.KC_DB_PASSWORD, services.postgres?.environment?.POSTGRES_PASSWORD);
    assert.equal(kc.depends_on?.postgres?.condition, 'service_healthy');
    assert.match((kc.healthcheck?.test ?? []).join(' '), /\/dev\/tcp\/127\.0\.0\.1\/9000.*\/health\/ready/s);

    for (const realm of ['mcp-realm.json', 'other-realm.json']) {
      const mount = kc.volumes?.find((v) => v.target === `/opt/keycloak/data/import/${realm}`);
      assert.equal(mount?.source, join(ROOT, 'deploy', 'keycloak', realm));
      assert.equal(mount?.read_only, true);
      assert.ok(report.mounts[`keycloak/${realm}`], `${realm} parses`);
      // Upper-case ${NAME} / ${NAME:default} are ours; lower-case ones are Keycloak's message keys.
      const text = readFileSync(join(ROOT, 'deploy', 'keycloak', realm), 'utf8');
      for (const [, name] of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}/g)) {
        assert.ok(env[name as string], `${realm} needs ${name}: keycloak's environment sets it`);
      }
    }

    const pg = services.postgres as ComposeService;
    assert.equal(pg.image, 'postgres:16');
    assert.equal(pg.volumes?.find((v) => v.target === '/var/lib/postgresql/data')?.type, 'volume');
    assert.match((pg.healthcheck?.test ?? []).join(' '), /pg_isready/);
  });

  test('Traefik: TLS from deploy/certs, :80 redirects to https, ports on loopback by default', () => {
    const t = services.traefik as ComposeService;
    assert.match(t.image ?? '', /^traefik:v3\.\d+/);
    assert.deepEqual(
      t.ports?.map((p) => `${p.host_ip}:${p.published}:${p.target}`),
      ['127.0.0.1:80:80', '127.0.0.1:443:443'],
    );
    const certs = t.volumes?.find((v) => v.target === '/certs');
    assert.equal(certs?.source, join(ROOT, 'deploy', 'certs'));
    assert.equal(
      t.volumes?.find((v) => v.target === '/etc/traefik')?.source,
      join(ROOT, 'deploy', 'traefik'),
    );
    assert.deepEqual(traefikStatic.entryPoints.web.http.redirections.entryPoint, {
      to: 'websecure',
      scheme: 'https',
      permanent: true,
    });
    assert.equal(traefikStatic.entryPoints.websecure.address, ':443');
    assert.equal(traefikStatic.providers.file.filename, '/etc/traefik/dynamic.yml');
    assert.deepEqual(traefikDynamic.tls.stores.default.defaultCertificate, {
      certFile: '/certs/local.pem',
      keyFile: '/certs/local-key.pem',
    });
    for (const router of Object.values<Yaml>(traefikDynamic.http.routers)) {
      assert.deepEqual(router.entryPoints, ['websecure']);
      assert.ok(router.tls, 'every router is TLS');
    }
  });

  test('streaming-safe: no read timeout, nothing buffers or compresses the MCP stream', () => {
    const timeouts = traefikStatic.entryPoints.websecure.transport.respondingTimeouts;
    assert.equal(timeouts.readTimeout, '0s', 'Traefik v3 defaults to 60s, which cuts long streams');
    assert.equal(timeouts.writeTimeout, '0s');
    const middlewares: Record<string, Yaml> = traefikDynamic.http.middlewares ?? {};
    for (const [name, router] of Object.entries<Yaml>(traefikDynamic.http.routers)) {
      if (router.service !== 'mcp') continue;
      assert.match(router.rule, /Host\(`mcp\.localhost`\)/, name);
      for (const m of router.middlewares ?? []) {
        assert.equal(middlewares[m]?.buffering, undefined, `router ${name}: buffering middleware ${m}`);
      }
    }
    for (const [name, m] of Object.entries<Yaml>(middlewares)) {
      if (m.compress) {
        assert.ok(
          m.compress.excludedContentTypes?.includes('text/event-stream'),
          `compress middleware ${name}`,
        );
      }
    }
    assert.equal(traefikDynamic.http.services.mcp.loadBalancer.servers[0].url, 'http://mcp:3000');
  });

  test('auth.localhost: every path to Keycloak; the path-inserted OIDC discovery URL is rewritten', () => {
    const routers: Record<string, Yaml> = traefikDynamic.http.routers;
    assert.equal(
      routers.keycloak.rule,
      'Host(`auth.localhost`)',
      'all of auth.localhost, /.well-known/* included',
    );
    assert.equal(routers.keycloak.middlewares, undefined);
    assert.equal(traefikDynamic.http.services.keycloak.loadBalancer.servers[0].url, 'http://keycloak:8080');

    const inserted = routers['keycloak-oidc-path-inserted'];
    assert.equal(inserted.service, 'keycloak');
    assert.ok(inserted.priority > 0);
    const ruleRegex = /PathRegexp\(`([^`]+)`\)/.exec(inserted.rule)?.[1];
    assert.ok(ruleRegex && /Host\(`auth\.localhost`\)/.test(inserted.rule));
    const path = '/.well-known/openid-configuration/realms/mcp';
    assert.match(path, new RegExp(ruleRegex));
    assert.doesNotMatch('/realms/mcp/.well-known/openid-configuration', new RegExp(ruleRegex));
    const [middleware] = inserted.middlewares as string[];
    const { regex, replacement } = traefikDynamic.http.middlewares[middleware as string].replacePathRegex;
    // Go's and JavaScript's syntax agree for this expression and for `$1`.
    assert.equal(
      path.replace(new RegExp(regex), replacement),
      '/realms/mcp/.well-known/openid-configuration',
    );
  });

  test('profile observability: Jaeger with the tests’ loopback config, its UI on loopback only; the server exports to it', () => {
    const observed = withProfile('observability.env.example');
    assert.deepEqual(observed.services, ['jaeger', 'keycloak', 'mcp', 'postgres', 'traefik']);
    const jaeger = observed.project.services.jaeger as ComposeService & {
      ports?: { host_ip?: string; published?: string; target?: number }[];
      command?: string[];
    };
    assert.match(jaeger.image ?? '', /^jaegertracing\/jaeger:2\./);
    assert.deepEqual(jaeger.command, ['--config', '/etc/jaeger/config.yaml']);
    const config = jaeger.volumes?.find((v) => v.target === '/etc/jaeger/config.yaml');
    assert.equal(config?.source, join(ROOT, 'deploy', 'jaeger', 'config.yaml'), 'the config the tests run');
    assert.deepEqual(
      (jaeger.ports ?? []).map((p) => [p.host_ip, p.published, p.target]),
      [['127.0.0.1', '16686', 16686]],
      'only the UI is published, on loopback',
    );
    const env = observed.project.services.mcp?.environment as Record<string, string>;
    const telemetry = loadConfig(env).telemetry;
    assert.equal(telemetry.traces?.url, 'http://jaeger:4318/v1/traces');
    assert.equal(telemetry.metrics, undefined, 'Jaeger takes no metrics: no OTLP metric export');
    // Without the profile: no Jaeger, and tracing off.
    assert.ok(!report.services.includes('jaeger'));
    assert.equal(loadConfig(services.mcp?.environment as Record<string, string>).telemetry.traces, undefined);
  });

  test('the env examples document every variable compose.yaml reads, and only those', () => {
    const compose = readFileSync(join(ROOT, 'deploy', 'compose.yaml'), 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    const used = new Set([...compose.matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    const defined = new Set<string>();
    for (const file of ['.env.example', 'scale.env.example', 'observability.env.example']) {
      const example = readFileSync(join(ROOT, 'deploy', file), 'utf8').split('\n');
      example.forEach((line, i) => {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
        if (!m) return;
        const name = m[1] as string;
        const value = m[2] as string;
        // Each profile's file enables its profile; every other variable is set in one file only.
        assert.ok(name === 'COMPOSE_PROFILES' || !defined.has(name), `${name} is set in one file only`);
        defined.add(name);
        // The comment block above the variable (consecutive variables share one).
        let j = i - 1;
        while (j >= 0 && /^[A-Z_][A-Z0-9_]*=/.test(example[j] as string)) j--;
        assert.match(example[j] ?? '', /^# \S/, `${file}: ${name} is explained in a comment`);
        if (/PASSWORD|SECRET/.test(name) && value !== '') {
          let block = '';
          for (let k = j; k >= 0 && (example[k] as string).startsWith('#'); k--) block += example[k];
          assert.match(block, /DEV-ONLY/, `${file}: ${name}'s default is marked DEV-ONLY`);
        }
      });
    }
    // COMPOSE_PROFILES is read by Docker Compose itself, not by compose.yaml.
    defined.delete('COMPOSE_PROFILES');
    assert.deepEqual([...defined].sort(), [...used].sort());
  });
});

// ---- Dockerfile ---------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  test('hadolint finds nothing, not even style notes', {
    skip: requirements('Dockerfile with hadolint', ['hadolint']),
  }, () => {
    const r = spawnSync(hadolint, ['--failure-threshold', 'style', 'Dockerfile'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `hadolint Dockerfile:\n${r.stdout}${r.stderr}`);
  });

  test('multi-stage: production dependencies built in a full image, a slim non-root runtime', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    assert.ok(froms.length >= 2);
    assert.match(froms.at(-1) as string, /^node:\$\{NODE_VERSION\}-bookworm-slim\b/);
    assert.ok(dockerfile.some((i) => i.keyword === 'RUN' && /npm ci --omit=dev/.test(i.args)));
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
    assert.ok(user && !/^(0|root)(:|$)/.test(user), `runs as a non-root user, not "${user}"`);
    assert.ok(runtime.some((i) => i.keyword === 'EXPOSE' && i.args === '3000'));
    assert.match(execForm('HEALTHCHECK').join(' '), /127\.0\.0\.1.*PORT.*\/healthz/);
  });

  test('.dockerignore keeps data, secrets and dependencies out, and what the image copies in', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'data', '.git', '.env', 'test-results', 'scratch', 'deploy']) {
      assert.ok(ignored.includes(p), `.dockerignore excludes ${p}`);
    }
    for (const copy of runtime.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) {
        assert.ok(!ignored.includes(source), `${source} is copied into the image, so not ignored`);
      }
    }
  });
});

// ---- The image's start command ------------------------------------------------------------------------

describe('the image’s CMD serves', () => {
  let issuer: TestIssuer;
  let child: ChildProcess | undefined;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => {
    child?.kill('SIGKILL');
    await issuer.close();
  });

  test('in a copy of the image’s files: readiness checks, HEALTHCHECK, clean stop on SIGTERM', async () => {
    // Lay out WORKDIR as the runtime stage does: its COPY instructions from the build context;
    // node_modules (copied from the deps stage) is the repository's.
    const app = join(work, 'app');
    const dataDir = join(work, 'data');
    mkdirSync(app);
    mkdirSync(dataDir);
    const imageEnv: Record<string, string> = {};
    for (const i of runtime) {
      if (i.keyword === 'ENV') {
        for (const pair of i.args.split(/\s+/)) {
          const eq = pair.indexOf('=');
          assert.ok(eq > 0, `ENV in KEY=value form: ${pair}`);
          imageEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
      } else if (i.keyword === 'COPY') {
        const words = i.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='));
        const paths = words.filter((w) => !w.startsWith('--'));
        const rawDest = paths.at(-1) as string;
        const dest = resolve(app, rawDest);
        for (const source of paths.slice(0, -1)) {
          if (from) {
            assert.match(source, /\/node_modules$/, `only node_modules comes from another stage: ${i.args}`);
            symlinkSync(join(ROOT, 'node_modules'), dest, 'dir');
          } else {
            const target = paths.length > 2 || rawDest.endsWith('/') ? join(dest, source) : dest;
            mkdirSync(dirname(target), { recursive: true });
            cpSync(join(ROOT, source), target, { recursive: true });
          }
        }
      }
    }
    assert.equal(imageEnv.NODE_ENV, 'production');
    assert.ok(existsSync(join(app, 'src', 'cli', 'serve.ts')));

    const cmd = execForm('CMD');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // The container's environment: the image's ENV plus what compose sets, bound to loopback here.
    const env = {
      PATH: process.env.PATH,
      ...imageEnv,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: base,
    };
    child = spawn(cmd[0] as string, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((done) => child?.once('exit', (code) => done(code)));
    for (let i = 0; i < 300 && !out.includes('"event":"listening"') && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, /"event":"listening"/, `${cmd.join(' ')} did not start:\n${out}`);

    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json();
    assert.equal(prm.resource, base);
    assert.deepEqual(prm.authorization_servers, [issuer.issuer]);
    const ready = await (await fetch(`${base}/readyz`)).json();
    assert.equal(ready.status, 'ready', JSON.stringify(ready));
    assert.ok(existsSync(join(dataDir, 'orders.sqlite')), 'the order store is created in DATA_DIR');

    // The image's HEALTHCHECK command, as Docker runs it inside the container.
    const hc = execForm('HEALTHCHECK');
    const probe = spawnSync(hc[0] as string, hc.slice(1), {
      cwd: app,
      env,
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(probe.status, 0, `HEALTHCHECK failed: ${probe.stderr}`);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'docker stop (SIGTERM) ends it cleanly');
    assert.match(out, /"event":"stopping"/);
    child = undefined;
  });
});
