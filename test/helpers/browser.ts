/**
 * Headless Chromium (Debian's package) driven by playwright-core, for the real login form.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium plus the places OAuth redirects land, all on loopback:
 * - `callbackUrl()`: a loopback HTTP listener, as a native client or CLI runs one;
 * - every other host name (chatgpt.com, claude.ai) resolves to a loopback HTTPS stub, so a
 *   redirect to ChatGPT's callback ends on a real page here and never leaves the machine.
 * Each redirect's full URL is what the tests read; the stubs just answer 200.
 */
export interface TestBrowser {
  browser: Browser;
  /** A loopback redirect URI served by a listener of ours, e.g. `http://127.0.0.1:41234/callback`. */
  callbackUrl(path?: string, host?: 'localhost' | '127.0.0.1'): string;
  close(): Promise<void>;
}

const DONE = '<!doctype html><title>Done</title><p>Signed in. You can close this window.</p>';

function listen(server: Server | HttpsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'sample-mcp-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=redirect-stub',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const answer = (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(DONE);
  };
  const https = createHttpsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    answer,
  );
  const http = createServer(answer);
  const [httpsPort, httpPort] = [await listen(https), await listen(http)];
  rmSync(dir, { recursive: true, force: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // every name but loopback goes to the HTTPS stub (port 443 of any host included)
      `--host-resolver-rules=MAP * 127.0.0.1:${httpsPort}, EXCLUDE localhost, EXCLUDE 127.0.0.1`,
      '--ignore-certificate-errors',
    ],
  });
  return {
    browser,
    callbackUrl: (path = '/callback', host = '127.0.0.1') => `http://${host}:${httpPort}${path}`,
    async close() {
      await browser.close();
      https.closeAllConnections();
      http.closeAllConnections();
      await Promise.all([new Promise((r) => https.close(r)), new Promise((r) => http.close(r))]);
    },
  };
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
 * sent back to (the client's redirect URI with `code`, `state` and `iss`), and which pages it saw.
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

  const step = async (action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (err) {
      // the failing redirect may be reported before its request event: give it a moment
      for (let i = 0; i < 20 && !captured; i++) await new Promise((r) => setTimeout(r, 100));
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
    // let the last navigation (the redirect back to the client) finish
    await step(() => page.waitForLoadState());
    for (let i = 0; i < 50 && !captured; i++) await new Promise((r) => setTimeout(r, 100));
    if (!captured)
      throw new Error(`never returned to ${redirectUri}; page: ${(await page.content()).slice(0, 500)}`);
    return { callback: captured, sawLogin, sawConsent };
  } finally {
    page.off('request', onRequest);
  }
}
