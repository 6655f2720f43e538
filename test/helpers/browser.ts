/**
 * Headless Chromium (Debian's package) driven by playwright-core, for the real login form.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Names other than loopback fail without a DNS lookup: a redirect to chatgpt.com is recorded,
      // never sent anywhere.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
}

/** How to drive one authorization server's login and consent pages. */
export interface LoginDriver {
  isLogin(page: Page): Promise<boolean>;
  /** Fills the form and submits it (the submit may end in a navigation error; the caller handles it). */
  fillLogin(page: Page, user: { email: string; password: string }): Promise<void>;
  submitLogin(page: Page): Promise<void>;
  isConsent(page: Page): Promise<boolean>;
  allow(page: Page): Promise<void>;
}

/** This project's embedded authorization server (src/idp/pages.ts). */
export const embeddedDriver: LoginDriver = {
  isLogin: async (page) => (await page.locator('#password').count()) > 0,
  async fillLogin(page, user) {
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
  },
  submitLogin: (page) => page.getByRole('button', { name: 'Sign in' }).click(),
  isConsent: async (page) => (await page.getByRole('button', { name: 'Allow' }).count()) > 0,
  allow: (page) => page.getByRole('button', { name: 'Allow' }).click(),
};

/** Keycloak's login theme (keycloak.v2): login.ftl and login-oauth-grant.ftl. */
export const keycloakDriver: LoginDriver = {
  isLogin: async (page) => (await page.locator('#password').count()) > 0,
  async fillLogin(page, user) {
    await page.locator('#username').fill(user.email);
    await page.locator('#password').fill(user.password);
  },
  submitLogin: (page) => page.locator('#kc-login').click(),
  isConsent: async (page) => (await page.locator('button[name=accept], input[name=accept]').count()) > 0,
  allow: (page) => page.locator('[name=accept]').click(),
};

/**
 * Opens an authorization URL, signs in and allows access, and returns the URL the browser was
 * sent back to (the client's redirect URI with `code`, `state` and `iss`), and which pages it saw. That last request
 * fails in the browser (chatgpt.com does not resolve here, a loopback callback has no listener);
 * only its URL matters.
 */
export async function signInAndConsent(
  page: Page,
  authorizationUrl: string,
  redirectUri: string,
  user: { email: string; password: string },
  opts: { driver?: LoginDriver; screenshots?: { login?: string; consent?: string } } = {},
): Promise<{ callback: URL; sawLogin: boolean; sawConsent: boolean }> {
  const driver = opts.driver ?? embeddedDriver;
  let captured: URL | undefined;
  let sawLogin = false;
  let sawConsent = false;
  const onRequest = (req: Request) => {
    if (req.url().startsWith(redirectUri)) captured ??= new URL(req.url());
  };
  page.on('request', onRequest);
  // Navigations that end at the redirect URI fail (see above); that is the expected end.
  const step = async (action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (err) {
      if (!captured) throw err;
    }
  };
  try {
    await step(() => page.goto(authorizationUrl));
    if (!captured && (await driver.isLogin(page))) {
      sawLogin = true;
      if (opts.screenshots?.login) await page.screenshot({ path: opts.screenshots.login });
      await driver.fillLogin(page, user);
      await step(() => driver.submitLogin(page));
      await step(() => page.waitForLoadState());
    }
    if (!captured && (await driver.isConsent(page))) {
      sawConsent = true;
      if (opts.screenshots?.consent) await page.screenshot({ path: opts.screenshots.consent });
      await step(() => driver.allow(page));
    }
    for (let i = 0; i < 50 && !captured; i++) await new Promise((r) => setTimeout(r, 100));
    if (!captured)
      throw new Error(`never returned to ${redirectUri}; page: ${(await page.content()).slice(0, 500)}`);
    return { callback: captured, sawLogin, sawConsent };
  } finally {
    page.off('request', onRequest);
  }
}
