/**
 * A test authorization server on loopback: OIDC + RFC 8414 metadata and a JWKS, plus token
 * minting with its private keys. Tokens are signed with `jose`, exactly like a real issuer's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  /** Requests served, by path (to assert on JWKS fetch counts). */
  hits: Map<string, number>;
  sign(claims: JWTPayload, opts?: SignOptions): Promise<string>;
  /** Signs arbitrary payload bytes with the current key and any protected header (attack tests). */
  signRaw(
    payload: Uint8Array,
    header: Record<string, unknown>,
    opts?: { foreignKey?: boolean; crit?: Record<string, boolean> },
  ): Promise<string>;
  /** A key pair that is not in the JWKS, as an attacker's. */
  attackerKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }>;
  /** Adds a new key (and optionally drops the old ones) — key rotation. */
  rotate(opts?: { dropOld?: boolean }): Promise<string>;
  /** Stops answering (connections refused) until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SignOptions {
  kid?: string;
  alg?: string;
  /** Sign with a key that is not in the JWKS. */
  foreignKey?: boolean;
  header?: Record<string, unknown>;
  expiresIn?: number | null;
}

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

export async function startTestIssuer(opts: { path?: string; port?: number } = {}): Promise<TestIssuer> {
  const path = opts.path ?? '/realms/mcp';
  let keys: Key[] = [await newKey('key-1')];
  const foreign = await newKey('key-1');
  let counter = 1;
  const hits = new Map<string, number>();
  let server: Server | undefined;
  let port = opts.port ?? 0;
  let issuer = '';

  const metadata = () => ({
    issuer,
    jwks_uri: `${issuer}/protocol/openid-connect/certs`,
    authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
    token_endpoint: `${issuer}/protocol/openid-connect/token`,
    code_challenge_methods_supported: ['S256'],
    response_types_supported: ['code'],
  });

  async function start(): Promise<void> {
    server = createServer((req, res) => {
      const p = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(p, (hits.get(p) ?? 0) + 1);
      const send = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (
        p === `${path}/.well-known/openid-configuration` ||
        p === `/.well-known/oauth-authorization-server${path}`
      ) {
        send(metadata());
      } else if (p === `${path}/protocol/openid-connect/certs`) {
        send({ keys: keys.map((k) => k.publicJwk) });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    issuer = `http://127.0.0.1:${port}${path}`;
  }
  async function stop(): Promise<void> {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await start();

  return {
    get issuer() {
      return issuer;
    },
    get jwksUrl() {
      return `${issuer}/protocol/openid-connect/certs`;
    },
    hits,
    async sign(claims, o = {}) {
      const key = o.foreignKey
        ? foreign
        : (keys.find((k) => k.kid === (o.kid ?? keys[keys.length - 1]?.kid)) ?? keys[0]);
      if (!key) throw new Error('no key');
      const now = Math.floor(Date.now() / 1000);
      // Like Keycloak and the embedded server: an e-mail comes with email_verified.
      const verified = claims.email !== undefined &&
        !('email_verified' in claims) && { email_verified: true };
      const jwt = new SignJWT({ iat: now, ...verified, ...claims }).setProtectedHeader({
        alg: o.alg ?? 'RS256',
        kid: o.kid ?? key.kid,
        typ: 'JWT',
        ...o.header,
      });
      if (o.expiresIn !== null && claims.exp === undefined) jwt.setExpirationTime(now + (o.expiresIn ?? 300));
      return jwt.sign(key.privateKey);
    },
    async signRaw(payload, header, o = {}) {
      const key = o.foreignKey ? foreign : keys[keys.length - 1];
      if (!key) throw new Error('no key');
      return new CompactSign(payload)
        .setProtectedHeader({ alg: 'RS256', ...header } as never)
        .sign(key.privateKey, o.crit ? { crit: o.crit } : undefined);
    },
    async attackerKey() {
      return { privateKey: foreign.privateKey, publicJwk: foreign.publicJwk };
    },
    async rotate(o = {}) {
      counter += 1;
      const k = await newKey(`key-${counter}`);
      keys = o.dropOld ? [k] : [...keys, k];
      return k.kid;
    },
    stop,
    start,
    close: stop,
  };
}
