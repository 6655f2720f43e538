/**
 * The embedded authorization server's users: three dev accounts matching the sample data.
 * Passwords come from the environment; the documented dev defaults are refused in production.
 *
 * A login's password hash (scrypt, ~40 ms of CPU) runs on libuv's thread pool, never on the event
 * loop, and at most `concurrency` at a time with at most `maxQueued` waiting: a login flood cannot
 * stall other requests, and beyond the queue a login is refused at once ({@link QueueFullError}).
 * An unknown e-mail costs the same hash as a known one, so timing does not tell which exist.
 */
import { scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { STAFF_ROLE } from '../auth/scopes.js';
import { createSemaphore } from '../web/semaphore.js';

export { QueueFullError } from '../web/semaphore.js';

export interface Account {
  /** Stable subject (`sub`). */
  id: string;
  email: string;
  givenName: string;
  familyName: string;
  roles: string[];
}

export interface UserDirectory {
  accounts: readonly Account[];
  find(id: string): Account | undefined;
  /**
   * Constant-time password check; `undefined` for an unknown e-mail or a wrong password.
   * @throws QueueFullError when too many checks are already waiting
   */
  verify(email: string, password: string): Promise<Account | undefined>;
  /** True while any account still uses its documented dev default password. */
  usesDevDefaults: boolean;
}

export const DEV_ACCOUNTS: readonly (Account & { passwordEnv: string; devPassword: string })[] = [
  {
    id: 'alice',
    email: 'alice@example.com',
    givenName: 'Alice',
    familyName: 'Anderson',
    roles: ['customer'],
    passwordEnv: 'IDP_ALICE_PASSWORD',
    devPassword: 'alice-dev-password',
  },
  {
    id: 'bob',
    email: 'bob@example.com',
    givenName: 'Bob',
    familyName: 'Brown',
    roles: ['customer'],
    passwordEnv: 'IDP_BOB_PASSWORD',
    devPassword: 'bob-dev-password',
  },
  {
    id: 'carol',
    email: 'carol@example.com',
    givenName: 'Carol',
    familyName: 'Clark',
    roles: [STAFF_ROLE],
    passwordEnv: 'IDP_CAROL_PASSWORD',
    devPassword: 'carol-dev-password',
  },
];

const SALT = 'sample-mcp-idp';
const KEY_LENGTH = 32;
/** At start-up only (three accounts and the dummy). */
const hash = (password: string) => scryptSync(password, SALT, KEY_LENGTH);
const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

export interface HashingOptions {
  /** Password hashes computed at once (each takes a thread of libuv's pool, 4 by default). */
  concurrency: number;
  /** Logins waiting for a hash; beyond this, refused. */
  maxQueued: number;
}

export function devUsers(
  env: Record<string, string | undefined>,
  hashing: HashingOptions = { concurrency: 1, maxQueued: 32 },
): UserDirectory {
  const slots = createSemaphore(hashing);
  const entries = DEV_ACCOUNTS.map(({ passwordEnv, devPassword, ...account }) => {
    const password = env[passwordEnv]?.trim() || devPassword;
    return { account, hash: hash(password), isDefault: password === devPassword };
  });
  const byEmail = new Map(entries.map((e) => [e.account.email, e]));
  const dummy = hash('not-a-password');
  return {
    accounts: entries.map((e) => e.account),
    find: (id) => entries.find((e) => e.account.id === id)?.account,
    async verify(email, password) {
      const entry = byEmail.get(email.trim().toLowerCase());
      const given = await slots.run(() => scryptAsync(password.slice(0, 1024), SALT, KEY_LENGTH));
      const ok = timingSafeEqual(given, entry?.hash ?? dummy);
      return ok && entry ? entry.account : undefined;
    },
    usesDevDefaults: entries.some((e) => e.isDefault),
  };
}
