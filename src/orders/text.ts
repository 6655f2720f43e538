/**
 * The one text model of the orders: what a word is, how text is folded (lower case, no accents,
 * one table for letters that do not decompose), and how a user's query becomes word tokens. Both
 * stores index and query with it; the generator folds names into e-mail addresses with it.
 */

/**
 * A word: starts with a letter or digit, may continue with letters, digits and combining marks
 * (so decomposed "crème" stays one word).
 */
export const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

/** A letter or digit: what separates words is anything else. */
export const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Letters that do not decompose under NFD, folded by hand (lower case: folding lower-cases first). */
const FOLDS: Readonly<Record<string, string>> = { ø: 'o', æ: 'ae', ß: 'ss', ł: 'l', đ: 'd', þ: 'th' };
const FOLDABLE = /[øæßłđþ]/g;

/** Printable ASCII only (anything else takes the Unicode path). */
const ASCII = /^[ -~]*$/;

/**
 * Lower-cases and strips diacritics: NFD with combining marks removed, plus {@link FOLDS}.
 */
export function foldText(text: string): string {
  // Fast path: plain ASCII has nothing to decompose.
  if (ASCII.test(text)) return text.toLowerCase();
  return text
    .toLowerCase()
    .replace(FOLDABLE, (c) => FOLDS[c] ?? c)
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC');
}

/**
 * The words of `text`, folded ("gluten-free" → `gluten`, `free`; e-mails split into their parts).
 */
export function foldedWordList(text: string): string[] {
  return Array.from(text.normalize('NFC').matchAll(WORD), (m) => foldText(m[0]));
}

/** {@link foldedWordList}, space-separated (what PostgreSQL's `tsvector` is built from). */
export function foldedWords(text: string): string {
  return foldedWordList(text).join(' ');
}

/** At most this many characters of the input are scanned for tokens. */
export const MAX_QUERY_CHARS = 10_000;

/** At most this many (distinct) tokens are used; the rest are ignored. */
export const MAX_QUERY_TOKENS = 32;

/** Tokens at least this long (in code points) may become prefix queries; shorter ones match exactly. */
export const MIN_PREFIX_CHARS = 2;

/**
 * The distinct lower-cased word tokens of `input` (NFC-normalised), in order of first appearance,
 * scanning at most {@link MAX_QUERY_CHARS} characters and keeping at most {@link MAX_QUERY_TOKENS}.
 * User text reaches a store's query language only as these tokens, each quoted by the store.
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
