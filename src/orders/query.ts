/**
 * Turning arbitrary user input into a safe SQLite FTS5 MATCH expression.
 *
 * User text is never passed to MATCH verbatim: FTS5 has its own query language (`AND`, `OR`,
 * `NOT`, `NEAR(...)`, `"phrases"`, `col:filters`, `^initial`, `*` prefixes, parentheses) and
 * malformed input is a syntax error. Instead we extract word tokens and quote every one of them.
 */

/** At most this many characters of the input are scanned for tokens. */
export const MAX_QUERY_CHARS = 10_000;

/** At most this many (distinct) tokens are used; the rest are ignored. */
export const MAX_QUERY_TOKENS = 32;

/** Tokens at least this long (in code points) may become prefix queries (`"tok"*`); shorter ones match exactly. */
export const MIN_PREFIX_CHARS = 2;

/**
 * A word: starts with a letter or digit, may continue with letters, digits and combining marks
 * (so decomposed "crème" stays one word; FTS5's unicode61 tokenizer also treats marks as part of words).
 */
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

/**
 * Extracts the distinct lower-cased word tokens of `input` (NFC-normalised), in order of first
 * appearance, scanning at most {@link MAX_QUERY_CHARS} characters and keeping at most
 * {@link MAX_QUERY_TOKENS} tokens.
 *
 * @example
 * queryTokens('Red velvet, RED!'); // ['red', 'velvet']
 * queryTokens('"; DROP TABLE --'); // ['drop', 'table']
 */
export function queryTokens(input: string): string[] {
  const scanned = input.slice(0, MAX_QUERY_CHARS).normalize('NFC');
  const tokens: string[] = [];
  const seen = new Set<string>();
  for (const match of scanned.matchAll(WORD)) {
    const token = match[0].toLowerCase();
    if (seen.has(token)) continue;
    seen.add(token);
    tokens.push(token);
    if (tokens.length >= MAX_QUERY_TOKENS) break;
  }
  return tokens;
}

/**
 * Turns any user string into a safe FTS5 MATCH expression: each token becomes a quoted prefix
 * term (`"tok"*`, so FTS keywords and punctuation are inert; one-character tokens are quoted
 * without `*`) and terms are joined with `OR`. Returns
 * `null` when the input contains no word tokens. This is the loosest form; the SQLite store's
 * search uses {@link ftsMatch} instead (every word first, only the last word as a prefix), because
 * prefix-expanding every word is slow on large indexes.
 *
 * @example
 * toFtsQuery('Red Velvet'); // '"red"* OR "velvet"*'
 * toFtsQuery('NEAR(a AND'); // '"near"* OR "a" OR "and"*'
 * toFtsQuery('  *** ');     // null
 */
export function toFtsQuery(input: string): string | null {
  const tokens = queryTokens(input);
  if (tokens.length === 0) return null;
  // The token regex cannot match `"`, but double any defensively (FTS5's string escape).
  // One-character tokens match exactly: a prefix query on "a" would expand to most of the index.
  return tokens
    .map((t) => `"${t.replaceAll('"', '""')}"${[...t].length >= MIN_PREFIX_CHARS ? '*' : ''}`)
    .join(' OR ');
}

/**
 * One token as a safe FTS5 term: quoted (FTS keywords and punctuation are inert, `"` doubled),
 * with `*` when `prefix` is set and the token has at least {@link MIN_PREFIX_CHARS} code points.
 *
 * @example
 * ftsTerm('velvet', false); // '"velvet"'
 * ftsTerm('vel', true);     // '"vel"*'
 * ftsTerm('a', true);       // '"a"' (a one-character prefix would expand to most of the index)
 */
export function ftsTerm(token: string, prefix: boolean): string {
  const star = prefix && [...token].length >= MIN_PREFIX_CHARS ? '*' : '';
  return `"${token.replaceAll('"', '""')}"${star}`;
}

/**
 * Joins tokens (from {@link queryTokens}) into an FTS5 expression: `AND` (every word) or `OR`
 * (any word). Only the last token may be a prefix term (`prefixLast`), the word being typed;
 * every other word matches exactly (after stemming), which keeps a query to a few index lookups.
 * Returns `null` for no tokens.
 *
 * @example
 * ftsMatch(['red', 'vel'], 'AND', true);   // '"red" AND "vel"*'
 * ftsMatch(['red', 'velvet'], 'OR', false); // '"red" OR "velvet"'
 */
export function ftsMatch(tokens: readonly string[], op: 'AND' | 'OR', prefixLast: boolean): string | null {
  if (tokens.length === 0) return null;
  const last = tokens.length - 1;
  return tokens.map((t, i) => ftsTerm(t, prefixLast && i === last)).join(` ${op} `);
}

/** Printable ASCII only (anything else takes the Unicode path). */
const ASCII = /^[ -~]*$/;

/**
 * Lower-cases and strips diacritics (NFD, combining marks removed), like the index's
 * `remove_diacritics` tokenizer option; used to score candidate rows in JavaScript.
 *
 * @example
 * foldText('Crème Brûlée'); // 'creme brulee'
 */
export function foldText(text: string): string {
  // Fast path: plain ASCII has nothing to decompose.
  if (ASCII.test(text)) return text.toLowerCase();
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}
