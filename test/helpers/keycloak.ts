/**
 * A real Keycloak for the test suite, started with deploy/keycloak/keycloak.sh (fetched from Maven
 * Central into the cache on first use). One instance per test file; it is stopped in `after`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './stack.js';

const SCRIPT = join(process.cwd(), 'deploy', 'keycloak', 'keycloak.sh');

export interface RunningKeycloak {
  /** Public base URL, e.g. http://localhost:41234 */
  url: string;
  issuer: string;
  realmUrl(realm: string): string;
  stop(): void;
}

export async function startKeycloak(audiences: { audience: string; alt: string }): Promise<RunningKeycloak> {
  const port = await freePort();
  const mgmt = await freePort();
  const url = `http://localhost:${port}`;
  const env = {
    ...process.env,
    KC_PORT: String(port),
    KC_MGMT_PORT: String(mgmt),
    KC_PUBLIC_URL: url,
    MCP_AUDIENCE: audiences.audience,
    MCP_ALT_AUDIENCE: audiences.alt,
  };
  execFileSync('bash', [SCRIPT, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return {
    url,
    issuer: `${url}/realms/mcp`,
    realmUrl: (realm) => `${url}/realms/${realm}`,
    stop: () => {
      execFileSync('bash', [SCRIPT, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    },
  };
}

/** Resource-owner password grant with the realm's confidential automation client (tests only). */
export async function passwordToken(
  realmUrl: string,
  user: { email: string; password: string },
  client = {
    id: 'mcp-automation',
    secret: process.env.KC_AUTOMATION_CLIENT_SECRET ?? 'automation-dev-secret',
  },
  scope?: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${realmUrl}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: client.id,
      client_secret: client.secret,
      username: user.email,
      password: user.password,
      ...(scope && { scope }),
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`password grant at ${realmUrl}: ${JSON.stringify(body)}`);
  return body;
}
