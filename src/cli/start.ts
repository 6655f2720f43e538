/**
 * `npm start`: the whole local stack without Docker — the embedded authorization server and the
 * resource server, wired together — and what to do next.
 */

import { STAFF_ROLE } from '../auth/scopes.js';
import { loadConfig } from '../config/config.js';
import { idpIssuerFrom, loadIdpConfig } from '../idp/config.js';
import { startAuthorizationServer } from '../idp/server.js';
import { DEV_ACCOUNTS } from '../idp/users.js';
import { createLogger } from '../observability/logger.js';
import { startTelemetry } from '../observability/telemetry.js';
import { startResourceServer } from '../resourceServer.js';
import { loadEnvFile, onShutdown, orExit } from './env.js';

loadEnvFile();
const env = process.env;
const issuer = await orExit(() => idpIssuerFrom(env));
if (env.KC_ISSUER && env.KC_ISSUER !== issuer) {
  console.error(
    `sample-mcp: note: npm start uses its embedded authorization server (${issuer}), not KC_ISSUER=${env.KC_ISSUER}; use npm run serve for an external one.`,
  );
}
const config = await orExit(() => loadConfig({ ...env, KC_ISSUER: issuer }));
const idpConfig = await orExit(() => loadIdpConfig(env, config));
const logger = createLogger(config.logLevel);
// One SDK for both servers (when OTEL_EXPORTER_OTLP_ENDPOINT is set): a login and the tool calls
// that follow show up in the same trace view.
const telemetry = startTelemetry(config.telemetry);
const { tracing } = telemetry;
const as = await orExit(() => startAuthorizationServer(idpConfig, { env, logger, tracing }));
const rs = await orExit(() => startResourceServer(config, { logger, tracing }));

const mcpUrl = `${config.serverUrl}/mcp`;
const users = DEV_ACCOUNTS.map((a) => {
  const custom = env[a.passwordEnv]?.trim();
  const password = custom ? `(${a.passwordEnv})` : a.devPassword;
  return `    ${a.email.padEnd(20)} ${password.padEnd(22)} ${a.roles.includes(STAFF_ROLE) ? 'staff: sees every order' : 'customer: sees own orders'}`;
});
console.log(`
Sample MCP is running.

  MCP server (connector URL)  ${mcpUrl}
  Authorization server        ${as.issuer}

  Users (password; change with IDP_ALICE_PASSWORD, IDP_BOB_PASSWORD, IDP_CAROL_PASSWORD):
${users.join('\n')}

  Try it:
    TOKEN=$(npm run -s token -- alice@example.com)
    curl -s ${mcpUrl} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
      -H 'accept: application/json, text/event-stream' \\
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"chocolate"}}}'

    npx @modelcontextprotocol/inspector    # then connect to ${mcpUrl} (Streamable HTTP) and sign in

  ChatGPT and Claude need a public https URL: see docs/clients.md.
`);
onShutdown(
  async () => {
    await rs.close();
    await as.close();
    await telemetry.shutdown();
  },
  (signal) => logger.info({ event: 'stopping', signal }, 'shutting down'),
);
