/**
 * Signing keys and cookie keys of the embedded authorization server, generated on first start and
 * kept in its data directory (mode 0600), so tokens and sessions stay valid across restarts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface IdpKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** Secret for CSRF tokens on the login and consent forms. */
  csrfSecret: string;
}

function writeSecret(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}

export async function loadOrCreateKeys(dir: string): Promise<IdpKeys> {
  const jwksPath = join(dir, 'signing-keys.json');
  const secretsPath = join(dir, 'secrets.json');
  if (!existsSync(jwksPath)) {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
    writeSecret(jwksPath, { keys: [jwk] });
  }
  if (!existsSync(secretsPath)) {
    writeSecret(secretsPath, {
      cookieKeys: [randomBytes(32).toString('base64url')],
      csrfSecret: randomBytes(32).toString('base64url'),
    });
  }
  const jwks = JSON.parse(readFileSync(jwksPath, 'utf8')) as { keys: JWK[] };
  const secrets = JSON.parse(readFileSync(secretsPath, 'utf8')) as {
    cookieKeys: string[];
    csrfSecret: string;
  };
  return { jwks, cookieKeys: secrets.cookieKeys, csrfSecret: secrets.csrfSecret };
}
