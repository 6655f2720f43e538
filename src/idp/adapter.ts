/**
 * Persistence for the embedded authorization server: an `oidc-provider` adapter over SQLite, so
 * registered clients, grants, refresh tokens and login sessions survive a restart (a connector in
 * ChatGPT keeps working after `npm start` is run again).
 *
 * Dynamically registered clients expire unless used: a new one lives `unusedMs`; each grant,
 * code or token issued to it extends it to `usedMs` from then (the refresh-token lifetime, so a
 * client lives as long as its last refresh token). Expired rows are deleted by
 * {@link sweepExpired}, at start-up and periodically.
 */
import Database from 'better-sqlite3';

type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  clientId?: string;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_models (
  model      TEXT NOT NULL,
  id         TEXT NOT NULL,
  payload    TEXT NOT NULL,
  grant_id   TEXT,
  user_code  TEXT,
  uid        TEXT,
  expires_at INTEGER,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id);
CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid);
CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (model, user_code);
`;

export interface ClientLifetimes {
  /** A registered client nothing was issued to yet. */
  unusedMs: number;
  /** After the last grant, code or token issued to it. */
  usedMs: number;
}

/** The lifetimes the configuration asks for: unused as set, used as long as a refresh token. */
export function clientLifetimes(config: {
  unusedClientTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}): ClientLifetimes {
  return { unusedMs: config.unusedClientTtlSeconds * 1000, usedMs: config.refreshTokenTtlSeconds * 1000 };
}

export function openIdpDatabase(path: string, lifetimes: ClientLifetimes): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // Clients registered before clients expired: treat them as used now.
  db.prepare("UPDATE oidc_models SET expires_at = ? WHERE model = 'Client' AND expires_at IS NULL").run(
    Date.now() + lifetimes.usedMs,
  );
  sweepExpired(db);
  return db;
}

/** Deletes expired rows (clients, interactions, sessions, grants, codes, tokens); how many. */
export function sweepExpired(db: Database.Database, now = Date.now()): number {
  return db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < ?').run(now)
    .changes;
}

/** Issuing any of these to a client counts as using it. */
const USES_CLIENT = new Set(['Grant', 'AuthorizationCode', 'AccessToken', 'RefreshToken']);

/** The adapter factory `oidc-provider` expects (`adapter: sqliteAdapter(db, lifetimes)`). */
export function sqliteAdapter(db: Database.Database, lifetimes: ClientLifetimes) {
  const extendClientStmt = db.prepare(
    `UPDATE oidc_models SET expires_at = MAX(expires_at, @until)
     WHERE model = 'Client' AND id = @clientId AND expires_at IS NOT NULL`,
  );
  const upsertStmt = db.prepare(
    `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
     VALUES (@model, @id, @payload, @grantId, @userCode, @uid, @expiresAt)
     ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
       user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  );
  const live = '(expires_at IS NULL OR expires_at > @now)';
  const findStmt = db.prepare(
    `SELECT payload FROM oidc_models WHERE model = @model AND id = @id AND ${live}`,
  );
  const findUidStmt = db.prepare(
    `SELECT payload FROM oidc_models WHERE model = @model AND uid = @uid AND ${live}`,
  );
  const findCodeStmt = db.prepare(
    `SELECT payload FROM oidc_models WHERE model = @model AND user_code = @userCode AND ${live}`,
  );
  const consumeStmt = db.prepare(
    `UPDATE oidc_models SET payload = json_set(payload, '$.consumed', @at) WHERE model = @model AND id = @id`,
  );
  const destroyStmt = db.prepare('DELETE FROM oidc_models WHERE model = @model AND id = @id');
  const revokeStmt = db.prepare('DELETE FROM oidc_models WHERE grant_id = @grantId');

  const parse = (row: unknown): Payload | undefined =>
    row ? (JSON.parse((row as { payload: string }).payload) as Payload) : undefined;

  return class SqliteAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const now = Date.now();
      let expiresAt = typeof expiresIn === 'number' ? now + expiresIn * 1000 : null;
      if (this.model === 'Client' && expiresAt === null) expiresAt = now + lifetimes.unusedMs;
      if (USES_CLIENT.has(this.model) && typeof payload.clientId === 'string') {
        extendClientStmt.run({ clientId: payload.clientId, until: now + lifetimes.usedMs });
      }
      upsertStmt.run({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt,
      });
    }

    async find(id: string): Promise<Payload | undefined> {
      return parse(findStmt.get({ model: this.model, id, now: Date.now() }));
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return parse(findUidStmt.get({ model: this.model, uid, now: Date.now() }));
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return parse(findCodeStmt.get({ model: this.model, userCode, now: Date.now() }));
    }

    async consume(id: string): Promise<void> {
      consumeStmt.run({ model: this.model, id, at: Math.floor(Date.now() / 1000) });
    }

    async destroy(id: string): Promise<void> {
      destroyStmt.run({ model: this.model, id });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      revokeStmt.run({ grantId });
    }
  };
}
