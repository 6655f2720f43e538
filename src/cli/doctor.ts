/**
 * `npm run doctor -- <MCP URL> [options]` (or `sample-mcp doctor …`): checks the whole chain a
 * client walks and prints one line per check with ✓/✗; for each ✗ the cause and the fix.
 * Exit code 1 when any check fails, 2 for usage errors.
 */
import { parseArgs } from 'node:util';
import { writeEvidence } from '../doctor/evidence.js';
import { renderJson, renderText } from '../doctor/render.js';
import { runDoctor } from '../doctor/run.js';
import { loadEnvFile } from './env.js';

const USAGE = `usage: sample-mcp doctor <MCP URL> [options]

  --user <email> --password <pw>   sign in for the full check (token, tools/list, search, fetch)
  --client-id <id> [--client-secret <s>]   use the password grant with this test client (Keycloak)
  --token <jwt>                    use this access token instead (or DOCTOR_TOKEN)
  --audience <aud>                 the MCP_AUDIENCE tokens must carry (default: the URL's origin, or origin/mcp)
  --alt-audience <aud>             the MCP_ALT_AUDIENCE also accepted
  --query <text>                   what to search for (default: empty = most recent orders)
  --no-register                    skip the trial client registration
  --evidence <dir>                 write the evidence bundle (report.md and the documents) into <dir>
  --server-log <file>              server log to take the evidence log lines from
  --json                           machine-readable output
  --timeout <ms>                   per request (default 10000)

Environment: DOCTOR_PASSWORD, DOCTOR_CLIENT_SECRET, DOCTOR_TOKEN can replace the flags.`;

loadEnvFile();
let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      password: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      token: { type: 'string' },
      audience: { type: 'string' },
      'alt-audience': { type: 'string' },
      query: { type: 'string' },
      'no-register': { type: 'boolean' },
      evidence: { type: 'string' },
      'server-log': { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  console.error(`sample-mcp doctor: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const { values: v, positionals } = parsed;
const args = positionals[0] === 'doctor' ? positionals.slice(1) : positionals;
if (v.help || args.length !== 1) {
  console.error(USAGE);
  process.exit(v.help ? 0 : 2);
}
const url = args[0] as string;
try {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
} catch {
  console.error(`sample-mcp doctor: "${url}" is not an http(s) URL\n\n${USAGE}`);
  process.exit(2);
}
const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
const report = await runDoctor({
  url,
  user: str(v.user),
  password: str(v.password) ?? process.env.DOCTOR_PASSWORD,
  clientId: str(v['client-id']),
  clientSecret: str(v['client-secret']) ?? process.env.DOCTOR_CLIENT_SECRET,
  token: str(v.token) ?? process.env.DOCTOR_TOKEN,
  audience: str(v.audience),
  altAudience: str(v['alt-audience']),
  query: str(v.query),
  register: !v['no-register'],
  serverLog: str(v['server-log']),
  timeoutMs: v.timeout ? Number(v.timeout) : undefined,
});
if (v.evidence) {
  const files = writeEvidence(str(v.evidence) as string, report, str(v['server-log']));
  if (!v.json)
    console.error(`evidence: ${files.length} files in ${String(v.evidence)} (start with report.md)`);
}
console.log(v.json ? renderJson(report) : renderText(report, process.stdout.isTTY));
process.exit(report.ok ? 0 : 1);
