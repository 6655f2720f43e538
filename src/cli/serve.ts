/**
 * `npm run serve`: the resource server alone, configured from the environment (and `.env`).
 * A configuration error prints one line naming the variable and the fix, and exits 1.
 */
import { loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { startTelemetry } from '../observability/telemetry.js';
import { startResourceServer } from '../resourceServer.js';
import { loadEnvFile, onShutdown, orExit } from './env.js';

loadEnvFile();
const config = await orExit(() => loadConfig(process.env));
const logger = createLogger(config.logLevel);
// Before the server is built: its metrics and spans go to the SDK registered here (when configured).
const telemetry = startTelemetry(config.telemetry);
const rs = await orExit(() => startResourceServer(config, { logger, tracing: telemetry.tracing }));
logger.info(
  {
    event: 'listening',
    listen: rs.url,
    mcp: `${config.serverUrl}/mcp`,
    issuer: config.issuer,
    audiences: config.audiences,
    metadata: `${config.serverUrl}/.well-known/oauth-protected-resource`,
  },
  `MCP server listening on ${rs.url}; public URL ${config.serverUrl}/mcp`,
);
onShutdown(
  async () => {
    await rs.close();
    await telemetry.shutdown();
  },
  (signal) => logger.info({ event: 'stopping', signal }, 'shutting down'),
);
