/**
 * `npm run token -- <email> [--password P] [--resource URL]`: prints an access token for a dev
 * user of the embedded authorization server (started with `npm start`), obtained through its real
 * endpoints and login form. Nothing is signed locally.
 */
import { loadConfig } from '../config/config.js';
import { idpIssuerFrom } from '../idp/config.js';
import { DEV_ACCOUNTS } from '../idp/users.js';
import { loadEnvFile, orExit } from './env.js';
import { obtainToken } from './tokenFlow.js';

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
try {
  const tokens = await obtainToken({
    issuer,
    resource: resourceArg ?? `${config.serverUrl}/mcp`,
    email,
    password: pw,
  });
  console.log(tokens.access_token);
} catch (err) {
  const hint =
    (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? ' (is `npm start` running?)' : '';
  console.error(`sample-mcp: could not get a token from ${issuer}: ${(err as Error).message}${hint}`);
  process.exit(1);
}
