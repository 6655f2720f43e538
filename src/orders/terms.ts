/**
 * Search terms: what an order is found by and how much each term weighs in it, computed once when
 * the order is written so that a search reads precomputed numbers and never re-reads text.
 *
 * A term is a folded word (text.ts: lower case, no accents) reduced by the Porter stemmer, so
 * "Parties" and "party" are the same term (`parti`) and "Crème Brûlée" is `creme brule`. The query
 * side uses the same {@link stem}, so the two always agree.
 *
 * An order's score for a term is the weighted number of times the term occurs in each field
 * ({@link FIELD_WEIGHTS}: id number and flavours weigh most), counting at most
 * {@link MAX_FIELD_OCCURRENCES} per field so that repeating a word in the notes cannot outweigh
 * the flavour list. Weights are stored doubled, as integers (`notes` weighs 1.5).
 */
import { stemmer } from 'stemmer';
import { FIELD_WEIGHTS, type SearchFields, searchFields } from './searchDocument.js';
import { foldedWordList } from './text.js';
import type { Order } from './types.js';

/** Occurrences of a term in one field beyond this many add nothing. */
export const MAX_FIELD_OCCURRENCES = 3;

/** A folded word's term. Numbers and words of one or two letters stay as they are. */
export function stem(foldedWord: string): string {
  return foldedWord.length <= 2 || /^\p{N}+$/u.test(foldedWord) ? foldedWord : stemmer(foldedWord);
}

/** An order's terms, each with its score (doubled field weights × occurrences, capped per field). */
export interface OrderTerms {
  /** term → score (a positive integer). */
  readonly scores: ReadonlyMap<string, number>;
  /** Every distinct folded word with its term: what prefix search expands. */
  readonly words: ReadonlyMap<string, string>;
}

/**
 * The terms of one order.
 */
export function orderTerms(order: Order): OrderTerms {
  const fields = searchFields(order);
  const scores = new Map<string, number>();
  const words = new Map<string, string>();
  for (const field of Object.keys(fields) as Array<keyof SearchFields>) {
    const weight = FIELD_WEIGHTS[field] * 2;
    const counts = new Map<string, number>();
    for (const word of foldedWordList(fields[field])) {
      const term = words.get(word) ?? stem(word);
      words.set(word, term);
      counts.set(term, (counts.get(term) ?? 0) + 1);
    }
    for (const [term, n] of counts) {
      scores.set(term, (scores.get(term) ?? 0) + weight * Math.min(n, MAX_FIELD_OCCURRENCES));
    }
  }
  return { scores, words };
}
