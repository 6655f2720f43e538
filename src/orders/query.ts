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

/** Tokens at least this long (in code points) become prefix queries (`"tok"*`); shorter ones match exactly. */
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
 * without `*`) and terms are joined with `OR`, so
 * bm25 ranks orders that match more of the terms higher. Returns `null` when the input contains
 * no word tokens (callers then list recent orders instead).
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
