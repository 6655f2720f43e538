/**
 * `npm run token -- <email> [--password P] [--resource URL]`: prints an access token for a dev
 * user of the embedded authorization server (started with `npm start`), obtained through its real
 * endpoints and login form. Nothing is signed locally.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { obtainToken } from '../idp/client.js';
import { idpIssuerFrom } from '../idp/config.js';
import { DEV_ACCOUNTS } from '../idp/users.js';
import { loadEnvFile, orExit } from './env.js';

loadEnvFile();
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const password = flag('--password');
const resourceArg = flag('--resource');
const email = args[0]?.toLowerCase();
if (!email || args.length !== 1 || email.startsWith('-')) {
  console.error(
    'usage: npm run token -- <email> [--password P] [--resource URL]\n  e.g. npm run token -- alice@example.com',
  );
  process.exit(2);
}
const issuer = await orExit(() => idpIssuerFrom(process.env));
const config = await orExit(() => loadConfig({ ...process.env, KC_ISSUER: issuer }));
const account = DEV_ACCOUNTS.find((a) => a.email === email);
const pw =
  password ?? (account ? process.env[account.passwordEnv]?.trim() || account.devPassword : undefined);
if (!pw) {
  console.error(`sample-mcp: no password for ${email}: pass --password`);
  process.exit(2);
}
// One registered client per issuer, remembered next to the data, instead of a new one per call.
const cacheFile = join(config.ordersDb, '..', 'token-cli-clients.json');
const cached: Record<string, string> = existsSync(cacheFile)
  ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, string>)
  : {};
const request = (clientId: string | undefined) =>
  obtainToken({ issuer, resource: resourceArg ?? `${config.serverUrl}/mcp`, email, password: pw, clientId });
try {
  let tokens: Awaited<ReturnType<typeof obtainToken>>;
  try {
    tokens = await request(cached[issuer]);
  } catch (err) {
    if (!cached[issuer] || !/client/i.test((err as Error).message)) throw err;
    tokens = await request(undefined); // the remembered client is gone (new data directory): register again
  }
  if (cached[issuer] !== tokens.clientId) {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, `${JSON.stringify({ ...cached, [issuer]: tokens.clientId }, null, 2)}\n`);
  }
  console.log(tokens.access_token);
} catch (err) {
  const hint =
    (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? ' (is `npm start` running?)' : '';
  console.error(`sample-mcp: could not get a token from ${issuer}: ${(err as Error).message}${hint}`);
  process.exit(1);
}
