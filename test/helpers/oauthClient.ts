/**
 * An in-memory `OAuthClientProvider` for the official MCP client, whose "browser" is headless
 * Chromium signing in on the real login form.
 */
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import type { Page } from 'playwright-core';
import { type LoginDriver, signInAndConsent } from './browser.js';

export class BrowserOAuthProvider implements OAuthClientProvider {
  private info: StoredOAuthClientInformation | undefined;
  private stored: StoredOAuthTokens | undefined;
  private verifier = '';
  /** Set once the browser came back to the redirect URI. */
  callback: URL | undefined;
  /** Every authorization URL the client sent the "user" to. */
  readonly authorizationUrls: URL[] = [];

  constructor(
    private readonly page: Page,
    private readonly user: { email: string; password: string },
    readonly redirectUrl: string,
    private readonly meta: Partial<OAuthClientMetadata> = {},
    private readonly screenshots?: { login?: string; consent?: string },
    private readonly driver?: LoginDriver,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.meta,
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.info = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.stored = tokens;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    ({ callback: this.callback } = await signInAndConsent(this.page, url.href, this.redirectUrl, this.user, {
      screenshots: this.screenshots,
      driver: this.driver,
    }));
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** Forget the access token but keep the refresh token (forces a refresh). */
  expireAccessToken(): void {
    if (this.stored) this.stored = { ...this.stored, access_token: 'expired-token', expires_in: 0 };
  }
}
