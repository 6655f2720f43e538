/**
 * The embedded authorization server's users: three dev accounts matching the sample data.
 * Passwords come from the environment; the documented dev defaults are refused in production.
 */
import { scryptSync, timingSafeEqual } from 'node:crypto';
import { STAFF_ROLE } from '../auth/scopes.js';

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
  /** Constant-time password check; `undefined` for an unknown e-mail or a wrong password. */
  verify(email: string, password: string): Account | undefined;
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
const hash = (password: string) => scryptSync(password, SALT, 32);

export function devUsers(env: Record<string, string | undefined>): UserDirectory {
  const entries = DEV_ACCOUNTS.map(({ passwordEnv, devPassword, ...account }) => {
    const password = env[passwordEnv]?.trim() || devPassword;
    return { account, hash: hash(password), isDefault: password === devPassword };
  });
  const byEmail = new Map(entries.map((e) => [e.account.email, e]));
  const dummy = hash('not-a-password');
  return {
    accounts: entries.map((e) => e.account),
    find: (id) => entries.find((e) => e.account.id === id)?.account,
    verify(email, password) {
      const entry = byEmail.get(email.trim().toLowerCase());
      const ok = timingSafeEqual(hash(password.slice(0, 1024)), entry?.hash ?? dummy);
      return ok && entry ? entry.account : undefined;
    },
    usesDevDefaults: entries.some((e) => e.isDefault),
  };
}
