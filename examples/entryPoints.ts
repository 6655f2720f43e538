/**
 * The `@example` of every public entry point, compiled by `npm run typecheck`. Each
 * `// #region <name>` holds exactly the code one JSDoc `@example` shows (test/examples.test.ts
 * checks that they match), so an example cannot rot: if the API changes, this file stops compiling.
 *
 * The functions are never called; their parameters are what an example takes as given.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { context } from '@opentelemetry/api';
import { createAuthenticator } from '../src/auth/authenticate.js';
import { KeyStore } from '../src/auth/jwks/keyStore.js';
import { createSharedState } from '../src/cluster/sharedState.js';
import { loadConfig } from '../src/config/config.js';
import { loadTelemetryConfig } from '../src/config/telemetry.js';
import { runDoctor } from '../src/doctor/run.js';
import { obtainToken } from '../src/idp/client.js';
import { loadIdpConfig } from '../src/idp/config.js';
import { startAuthorizationServer } from '../src/idp/server.js';
import { createServerFactory } from '../src/mcp/server.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { startTelemetry } from '../src/observability/telemetry.js';
import { generateOrders } from '../src/orders/generate.js';
import { PostgresOrderStore } from '../src/orders/postgres.js';
import { SqliteOrderStore } from '../src/orders/sqlite.js';
import { tracedStore } from '../src/orders/traced.js';
import { asyncStore, type OrderStore } from '../src/orders/types.js';
import { startResourceServer } from '../src/resourceServer.js';
import { startHttpSpan } from '../src/web/httpSpan.js';

export async function resourceServer(logger: Logger) {
  // #region startResourceServer
  const rs = await startResourceServer(loadConfig(process.env), { logger });
  console.log(rs.url); // http://127.0.0.1:3000
  await rs.close();
  // #endregion
}

export function config() {
  // #region loadConfig
  const config = loadConfig(process.env); // throws ConfigError naming the variable and the fix
  console.log(config.audiences); // ['https://mcp.example.com', 'https://mcp.example.com/mcp']
  // #endregion
}

export async function authenticator(req: IncomingMessage) {
  // #region createAuthenticator
  const config = loadConfig(process.env);
  const keys = new KeyStore({ issuer: config.issuer, jwksUrl: config.jwksUrl });
  const authenticate = createAuthenticator({ ...config, keys });
  const principal = await authenticate(req.headersDistinct.authorization); // or throws AuthError
  console.log(principal.key); // 'https://auth.example.com/realms/mcp|<sub>': sessions are bound to it
  // #endregion
}

export async function sharedState() {
  // #region createSharedState
  const shared = await createSharedState(loadConfig(process.env), createLogger('info'));
  const id = shared.sessionIds.issue('https://auth.example.com/realms/mcp|alice', '2025-11-25');
  await shared.close();
  // #endregion
  return id;
}

export function serverFactory(store: OrderStore) {
  // #region createServerFactory
  const factory = createServerFactory({ store, serverUrl: 'https://mcp.example.com' });
  const server = factory(); // an McpServer with the search and fetch tools
  // #endregion
  return server;
}

export async function sqliteStore() {
  // #region SqliteOrderStore
  const store = SqliteOrderStore.open('data/orders.sqlite'); // created and migrated when missing
  store.ensureSampleData(); // 3000 generated orders the first time
  store.search('red velvet', { kind: 'customer', email: 'alice@example.com' }, 10);
  store.close();
  // #endregion
}

export async function asyncSqliteStore() {
  // #region asyncStore
  const store = asyncStore(SqliteOrderStore.open('data/orders.sqlite'));
  await store.search('chocolate', { kind: 'all' }, 10);
  // #endregion
}

export async function postgresStore() {
  // #region PostgresOrderStore
  const store = await PostgresOrderStore.open({ connectionString: process.env.DATABASE_URL });
  await store.ensureSampleData();
  await store.search('red velvet', { kind: 'customer', email: 'alice@example.com' }, 10);
  await store.close();
  // #endregion
}

export function orders() {
  // #region generateOrders
  for (const order of generateOrders({ count: 5, seed: 42 })) console.log(order.id, order.totalCents);
  // #endregion
}

export async function authorizationServer(logger: Logger) {
  // #region startAuthorizationServer
  const idp = loadIdpConfig(process.env, { serverUrl: 'http://localhost:3000', production: false });
  const as = await startAuthorizationServer(idp, { env: process.env, logger });
  console.log(as.issuer); // http://localhost:4000
  await as.close();
  // #endregion
}

export async function token() {
  // #region obtainToken
  const tokens = await obtainToken({
    issuer: 'http://localhost:4000',
    resource: 'http://localhost:3000/mcp',
    email: 'alice@example.com',
    password: 'alice-dev-password',
  });
  console.log(tokens.access_token);
  // #endregion
}

export async function doctor() {
  // #region runDoctor
  const report = await runDoctor({ url: 'https://mcp.example.com', user: 'alice@example.com', password: '…' });
  console.log(report.ok); // false when any check failed; report.checks says which, why and the fix
  // #endregion
}

export function telemetryConfig() {
  // #region loadTelemetryConfig
  const t = loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
  console.log(t.traces?.url); // http://127.0.0.1:4318/v1/traces
  // #endregion
}

export async function telemetry() {
  // #region startTelemetry
  const telemetry = startTelemetry(loadConfig(process.env).telemetry);
  console.log(telemetry.tracing); // false unless OTEL_EXPORTER_OTLP_ENDPOINT is set
  await telemetry.shutdown(); // exports what is buffered
  // #endregion
}

export function httpSpan() {
  // #region startHttpSpan
  const server = createServer((req, res) => {
    const http = startHttpSpan(req, res, { route: '/healthz' });
    context.with(http.context, () => res.end('ok'));
  });
  // #endregion
  return server;
}

export async function traced() {
  // #region tracedStore
  const store = tracedStore(asyncStore(SqliteOrderStore.open('data/orders.sqlite')), 'sqlite');
  await store.search('chocolate', { kind: 'all' }, 10); // a `search orders` span when tracing
  // #endregion
}
