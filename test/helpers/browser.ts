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

/**
 * Opens an authorization URL, signs in and allows access, and returns the URL the browser was
 * sent back to (the client's redirect URI with `code`, `state` and `iss`). That last request
 * fails in the browser (chatgpt.com does not resolve here, a loopback callback has no listener);
 * only its URL matters.
 */
export async function signInAndConsent(
  page: Page,
  authorizationUrl: string,
  redirectUri: string,
  user: { email: string; password: string },
  opts: { screenshots?: { login?: string; consent?: string } } = {},
): Promise<URL> {
  let captured: URL | undefined;
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
    if (!captured && (await page.locator('#password').count()) > 0) {
      if (opts.screenshots?.login) await page.screenshot({ path: opts.screenshots.login });
      await page.getByLabel('E-mail').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await step(() => page.getByRole('button', { name: 'Sign in' }).click());
      await step(() => page.waitForLoadState());
    }
    if (!captured && (await page.getByRole('button', { name: 'Allow' }).count()) > 0) {
      if (opts.screenshots?.consent) await page.screenshot({ path: opts.screenshots.consent });
      await step(() => page.getByRole('button', { name: 'Allow' }).click());
    }
    for (let i = 0; i < 50 && !captured; i++) await new Promise((r) => setTimeout(r, 100));
    if (!captured)
      throw new Error(`never returned to ${redirectUri}; page: ${(await page.content()).slice(0, 500)}`);
    return captured;
  } finally {
    page.off('request', onRequest);
  }
}
