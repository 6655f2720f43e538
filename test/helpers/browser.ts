/**
 * Headless Chromium (Debian's package) driven by playwright-core, for the real login form.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
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
    ],
  });
}

/**
 * Opens an authorization URL, signs in and allows access, and returns the URL the browser was
 * sent back to (the client's redirect URI with `code`, `state` and `iss`). The redirect itself is
 * not loaded: it may point at chatgpt.com, which this machine cannot reach.
 */
export async function signInAndConsent(
  page: Page,
  authorizationUrl: string,
  redirectUri: string,
  user: { email: string; password: string },
  opts: { screenshots?: { login?: string; consent?: string } } = {},
): Promise<URL> {
  let captured: URL | undefined;
  await page.route(
    (url) => url.href.startsWith(redirectUri),
    async (route) => {
      captured = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'done' });
    },
  );
  await page.goto(authorizationUrl);
  if (!captured && (await page.locator('#password').count()) > 0) {
    if (opts.screenshots?.login) await page.screenshot({ path: opts.screenshots.login });
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
  }
  if (!captured && (await page.getByRole('button', { name: 'Allow' }).count()) > 0) {
    if (opts.screenshots?.consent) await page.screenshot({ path: opts.screenshots.consent });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForLoadState();
  }
  for (let i = 0; i < 50 && !captured; i++) await new Promise((r) => setTimeout(r, 100));
  await page.unroute(() => true);
  if (!captured) throw new Error(`never returned to ${redirectUri}; page: ${(await page.content()).slice(0, 500)}`);
  return captured;
}
