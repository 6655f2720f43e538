/**
 * Configuration: defaults from the seed's variable names, and one clear line per mistake.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';

const ISSUER = 'https://auth.localhost/realms/mcp';

function fails(env: Record<string, string>, variable: string, pattern: RegExp) {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, variable);
      assert.match(err.message, pattern);
      assert.match(err.message, /Fix: /);
      assert.equal(err.message.includes('\n'), false, 'one line');
      return true;
    },
  );
}

describe('configuration', () => {
  test('defaults: audiences are the two advertised resources; loopback listener', () => {
    const c = loadConfig({ KC_ISSUER: ISSUER, MCP_SERVER_URL: 'https://mcp.localhost' });
    assert.deepEqual(c.audiences, ['https://mcp.localhost', 'https://mcp.localhost/mcp']);
    assert.equal(c.issuer, ISSUER);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 3000);
    assert.equal(c.maxBodyBytes, 1024 * 1024);
    assert.equal(c.requiredScope, 'mcp:tools');
    assert.equal(c.jwksUrl, undefined);
  });
  test('MCP_SERVER_URL defaults to http://localhost:$PORT; a trailing slash is dropped', () => {
    assert.equal(loadConfig({ KC_ISSUER: ISSUER, PORT: '3100' }).serverUrl, 'http://localhost:3100');
    assert.equal(
      loadConfig({ KC_ISSUER: ISSUER, MCP_SERVER_URL: 'https://MCP.localhost/' }).serverUrl,
      'https://mcp.localhost',
    );
  });
  test('the issuer is kept byte for byte (no trailing-slash normalisation)', () => {
    assert.equal(loadConfig({ KC_ISSUER: `${ISSUER}/` }).issuer, `${ISSUER}/`);
  });
  test('explicit audiences and JWKS URL', () => {
    const c = loadConfig({
      KC_ISSUER: ISSUER,
      MCP_SERVER_URL: 'https://mcp.localhost',
      MCP_AUDIENCE: 'mcp-server',
      MCP_ALT_AUDIENCE: 'https://mcp.localhost/mcp',
      KC_JWKS_URL: 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs',
    });
    assert.deepEqual(c.audiences, ['mcp-server', 'https://mcp.localhost/mcp']);
    assert.equal(c.jwksUrl, 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs');
  });
  test('mistakes name the variable and the fix', () => {
    fails({}, 'KC_ISSUER', /is not set/);
    fails({ KC_ISSUER: 'auth.localhost' }, 'KC_ISSUER', /not an absolute URL/);
    fails({ KC_ISSUER: ISSUER, MCP_SERVER_URL: 'ftp://x' }, 'MCP_SERVER_URL', /http or https/);
    fails(
      { KC_ISSUER: ISSUER, MCP_SERVER_URL: 'https://mcp.localhost/mcp' },
      'MCP_SERVER_URL',
      /bare origin/,
    );
    fails({ KC_ISSUER: ISSUER, PORT: '99999' }, 'PORT', /between 1 and 65535/);
    fails({ KC_ISSUER: ISSUER, MCP_SESSIONS: 'maybe' }, 'MCP_SESSIONS', /not a boolean/);
    fails(
      { KC_ISSUER: ISSUER, MCP_ALLOWED_ORIGINS: 'http://localhost:6274/path' },
      'MCP_ALLOWED_ORIGINS',
      /not an origin/,
    );
    fails({ KC_ISSUER: ISSUER, MCP_RESPONSE_MODE: 'xml' }, 'MCP_RESPONSE_MODE', /json or sse/);
    fails(
      { KC_ISSUER: ISSUER, MCP_HEADERS_TIMEOUT_MS: '30000', MCP_REQUEST_TIMEOUT_MS: '5000' },
      'MCP_REQUEST_TIMEOUT_MS',
      /less than MCP_HEADERS_TIMEOUT_MS/,
    );
    fails(
      { KC_ISSUER: ISSUER, MCP_REQUIRE_EMAIL_VERIFIED: 'sometimes' },
      'MCP_REQUIRE_EMAIL_VERIFIED',
      /not a boolean/,
    );
    fails({ KC_ISSUER: ISSUER, MCP_MAX_SESSIONS_PER_USER: '0' }, 'MCP_MAX_SESSIONS_PER_USER', /between 1/);
  });
  test('production refuses plain-http public URLs but allows loopback', () => {
    fails(
      { NODE_ENV: 'production', KC_ISSUER: ISSUER, MCP_SERVER_URL: 'http://mcp.example.com' },
      'MCP_SERVER_URL',
      /plain http/,
    );
    fails(
      {
        NODE_ENV: 'production',
        KC_ISSUER: 'http://auth.example.com/realms/mcp',
        MCP_SERVER_URL: 'https://mcp.example.com',
      },
      'KC_ISSUER',
      /plain http/,
    );
    const c = loadConfig({
      NODE_ENV: 'production',
      KC_ISSUER: 'http://127.0.0.1:4000',
      MCP_SERVER_URL: 'http://localhost:3000',
    });
    assert.equal(c.production, true);
    assert.equal(c.allowLoopbackOrigins, false, 'no loopback browser origins in production by default');
  });

  test('OpenTelemetry: off by default; the standard OTEL_* variables turn it on; OTEL_SDK_DISABLED wins', () => {
    const base = { KC_ISSUER: ISSUER };
    const off = loadConfig(base).telemetry;
    assert.equal(off.traces, undefined);
    assert.equal(off.metrics, undefined);
    const on = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/',
      OTEL_SERVICE_NAME: 'mcp-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=a%20b',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).telemetry;
    assert.equal(on.traces?.url, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(on.metrics?.url, 'http://127.0.0.1:4318/v1/metrics');
    assert.equal(on.traces?.sampler, 'parentbased_traceidratio');
    assert.equal(on.traces?.ratio, 0.25);
    assert.equal(on.serviceName, 'mcp-eu');
    assert.deepEqual(on.resourceAttributes, { 'deployment.environment.name': 'prod', team: 'a b' });
    const own = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom/traces',
      OTEL_METRICS_EXPORTER: 'none',
    }).telemetry;
    assert.equal(
      own.traces?.url,
      'http://collector:4318/custom/traces',
      'a signal endpoint is used as it is',
    );
    assert.equal(own.metrics, undefined);
    const disabled = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_SDK_DISABLED: 'true',
    }).telemetry;
    assert.equal(disabled.traces, undefined);
    assert.equal(disabled.metrics, undefined);
  });

  test('OpenTelemetry mistakes name the variable and the fix', () => {
    const base = { KC_ISSUER: ISSUER, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    fails({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', /4318/);
    fails({ ...base, OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER', /always_on/);
    fails({ ...base, OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG', /between 0 and 1/);
    fails(
      { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      /http or https/,
    );
    fails({ ...base, OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, 'OTEL_RESOURCE_ATTRIBUTES', /key=value/);
    fails({ ...base, OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER', /otlp/);
    fails({ ...base, OTEL_SDK_DISABLED: 'maybe' }, 'OTEL_SDK_DISABLED', /boolean/);
  });
});
