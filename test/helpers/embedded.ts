/**
 * The whole local stack for tests: the embedded authorization server and the resource server on
 * free loopback ports, with a fresh data directory that is removed on close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { loadIdpConfig } from '../../src/idp/config.js';
import { type AuthorizationServer, startAuthorizationServer } from '../../src/idp/server.js';
import { type ResourceServer, startResourceServer } from '../../src/resourceServer.js';
import { captureLogs } from './logs.js';
import { freePort, sampleStore } from './stack.js';

export interface EmbeddedStack {
  as: AuthorizationServer;
  rs: ResourceServer;
  issuer: string;
  base: string;
  mcpUrl: string;
  dataDir: string;
  logs: () => Record<string, unknown>[];
  /** Stops and starts the authorization server on the same port and data directory. */
  restartAs(): Promise<void>;
  close(): Promise<void>;
}

/**
 * @param extraEnv - environment for both servers
 * @param rsEnv - further overrides for the resource server only (e.g. a wrong KC_ISSUER)
 * @param opts - `tracing`: both servers make spans (the test registered the OpenTelemetry SDK)
 */
export async function startEmbeddedStack(
  extraEnv: Record<string, string> = {},
  rsEnv: (env: Record<string, string>) => Record<string, string> = () => ({}),
  opts: { tracing?: boolean } = {},
): Promise<EmbeddedStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sample-mcp-e2e-'));
  const [rsPort, asPort] = [await freePort(), await freePort()];
  const issuer = `http://localhost:${asPort}`;
  const base = `http://localhost:${rsPort}`;
  const env: Record<string, string> = {
    KC_ISSUER: issuer,
    MCP_SERVER_URL: base,
    PORT: String(rsPort),
    IDP_PORT: String(asPort),
    DATA_DIR: dataDir,
    ...extraEnv,
  };
  const idpConfig = loadIdpConfig(env, loadConfig(env));
  const config = loadConfig({ ...env, ...rsEnv(env) });
  const { logger, lines } = captureLogs();
  const tracing = opts.tracing ?? false;
  let as = await startAuthorizationServer(idpConfig, { env, logger, tracing });
  const rs = await startResourceServer(config, { logger, store: sampleStore(), tracing });
  return {
    get as() {
      return as;
    },
    rs,
    issuer,
    base,
    mcpUrl: `${base}/mcp`,
    dataDir,
    logs: lines,
    async restartAs() {
      await as.close();
      await new Promise((r) => setTimeout(r, 100)); // let clients notice their pooled sockets closed
      as = await startAuthorizationServer(idpConfig, { env, logger, tracing });
    },
    async close() {
      await rs.close();
      await as.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
