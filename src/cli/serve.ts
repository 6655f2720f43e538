/**
 * `npm run serve`: the resource server alone, configured from the environment (and `.env`).
 * A configuration error prints one line naming the variable and the fix, and exits 1.
 */
import { existsSync } from 'node:fs';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { startResourceServer } from '../resourceServer.js';

if (existsSync('.env')) loadDotenv({ path: '.env', quiet: true });

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`sample-mcp: configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger(config.logLevel);
const rs = await startResourceServer(config, { logger });
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

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'shutting down');
    rs.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
