/**
 * Word tokens (text.ts) as a safe SQLite FTS5 MATCH expression.
 *
 * User text is never passed to MATCH verbatim: FTS5 has its own query language (`AND`, `OR`,
 * `NOT`, `NEAR(...)`, `"phrases"`, `col:filters`, `^initial`, `*` prefixes, parentheses) and
 * malformed input is a syntax error. Instead every word token is quoted.
 */
import { MIN_PREFIX_CHARS } from './text.js';

/**
 * One token as a safe FTS5 term: quoted (FTS keywords and punctuation are inert, `"` doubled),
 * with `*` when `prefix` is set and the token has at least {@link MIN_PREFIX_CHARS} code points.
 */
export function ftsTerm(token: string, prefix: boolean): string {
  const star = prefix && [...token].length >= MIN_PREFIX_CHARS ? '*' : '';
  return `"${token.replaceAll('"', '""')}"${star}`;
}

/**
 * Joins tokens (from `queryTokens`) into an FTS5 expression: `AND` (every word) or `OR`
 * (any word). Only the last token may be a prefix term (`prefixLast`), the word being typed;
 * every other word matches exactly (after stemming), which keeps a query to a few index lookups.
 * Returns `null` for no tokens.
 */
export function ftsMatch(tokens: readonly string[], op: 'AND' | 'OR', prefixLast: boolean): string | null {
  if (tokens.length === 0) return null;
  const last = tokens.length - 1;
  return tokens.map((t, i) => ftsTerm(t, prefixLast && i === last)).join(` ${op} `);
}
