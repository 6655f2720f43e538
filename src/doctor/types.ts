/**
 * The doctor's vocabulary: a check has an id, a one-line title, and an outcome; a failed check
 * always carries its cause and the fix.
 */

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was seen (short). */
  detail?: string;
  /** Why it failed, in the user's terms. */
  cause?: string;
  /** What to change. */
  fix?: string;
}

/** One recorded HTTP exchange, for the evidence bundle (no credentials). */
export interface Exchange {
  name: string;
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  response?: { status: number; headers: Record<string, string>; body?: unknown };
  error?: string;
}

export interface DoctorOptions {
  /** The MCP URL as a user pastes it, e.g. `https://mcp.example.com` or `…/mcp`. */
  url: string;
  /** Expected audience in tokens (default: the URL's origin, as `MCP_AUDIENCE` defaults). */
  audience?: string;
  /** A second accepted audience (`MCP_ALT_AUDIENCE`); default: the URL's origin + `/mcp` when `audience` is not given. */
  altAudience?: string;
  /** A ready access token to use for the authenticated checks. */
  token?: string;
  /** Or credentials to log in with. */
  user?: string;
  password?: string;
  /** With a client id (and secret), the password grant is used; without, the embedded server's login form. */
  clientId?: string;
  clientSecret?: string;
  /** Query for the search check. */
  query?: string;
  /** Make a trial registration (creates a client at the authorization server). */
  register?: boolean;
  /** Server log file to take the evidence log lines from. */
  serverLog?: string;
  timeoutMs?: number;
}
