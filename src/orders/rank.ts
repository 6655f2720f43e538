/**
 * Top-k ranking over precomputed postings, independent of the database that holds them.
 *
 * Each query word is a *group* of terms: one term for a whole word, the terms of every word that
 * starts with it for the word being typed (a prefix). An order's score for a group is its best
 * score among the group's terms; its total is the sum over groups. A {@link PostingSource} lists
 * a term's orders best first (score, then newest) and tells the scores of given orders.
 *
 * - {@link rankAll}: orders having every group, by total, then newest. It is Fagin's threshold
 *   algorithm: walk every group's list in order, look up each newly seen order's scores, and stop
 *   as soon as no order not yet seen can rank above the k-th found (its total is at most the sum
 *   of the lists' current scores). With one group it is the first k postings. The term counts
 *   come first: a group no order has means no answer; when the rarest group has at most
 *   {@link SHORT_LIST} orders its whole list is read at once (every answer is in it), and at most
 *   {@link EXHAUSTIVE_LIST} when a first threshold step did not settle the ranking. A newly seen
 *   order's other groups are looked up one at a time, rarest first, and only while it still has
 *   every group. The walk reads at most {@link MAX_POSTINGS} postings; past that the best found so
 *   far is returned (a pathological query, e.g. six words from different note templates, which no
 *   order has together, at a million orders: the "any word" pass then answers).
 * - {@link rankAny}: orders having any group, by how many groups they have, then total, then
 *   newest, among the first k of each group (a fallback when no order has every word).
 */

/** One order in a term's list: its score for the term and its rowid (larger = newer). */
export interface Posting {
  readonly score: number;
  readonly rowid: number;
}

/** One term's score in one order (what {@link PostingSource.scores} returns). */
export interface TermScore extends Posting {
  readonly term: string;
}

/** Where postings come from (e.g. a SQLite index walk). */
export interface PostingSource {
  /** Up to `limit` postings of `term` after `after` (exclusive) in (score, rowid) descending order. */
  walk(term: string, after: Posting | undefined, limit: number): Posting[];
  /** The scores the given orders have for the given terms (absent pairs are omitted). */
  scores(rowids: readonly number[], terms: readonly string[]): TermScore[];
  /** How many orders each term has (a term with none may be missing from the map). */
  counts(terms: readonly string[]): ReadonlyMap<string, number>;
}

/** A ranked order: its rowid, total score and how many groups it has. */
export interface Ranked {
  readonly rowid: number;
  readonly total: number;
  readonly covered: number;
}

/**
 * `source` with each answer remembered, for one search: its passes walk the same lists again.
 */
export function memoized(source: PostingSource): PostingSource {
  const walks = new Map<string, Posting[]>();
  return {
    walk(term, after, limit) {
      const key = `${term}\u0000${after?.score ?? ''}\u0000${after?.rowid ?? ''}\u0000${limit}`;
      let postings = walks.get(key);
      if (postings === undefined) {
        postings = source.walk(term, after, limit);
        walks.set(key, postings);
      }
      return postings;
    },
    scores: (rowids, terms) => source.scores(rowids, terms),
    counts: (terms) => source.counts(terms),
  };
}

/**
 * When the rarest group has at most this many orders, {@link rankAll} reads its whole list and
 * looks up the other groups' scores for those orders, at once ({@link SHORT_LIST}) or when a
 * first threshold step did not settle the ranking.
 */
export const EXHAUSTIVE_LIST = 256;
export const SHORT_LIST = 64;

/** The most postings one ranking reads. */
export const MAX_POSTINGS = 4_000;

/** Postings fetched per term per step: small first (most queries end there), doubling up to the last. */
const CHUNKS = [16, 64, 256, 1024];

/** A greater b: more score first, then newer. */
function before(a: Posting, b: Posting): boolean {
  return a.score > b.score || (a.score === b.score && a.rowid > b.rowid);
}

/** One term's list, read in chunks. */
class TermCursor {
  private buffer: readonly Posting[] = [];
  private at = 0;
  private step = 0;
  private done = false;
  constructor(
    private readonly source: PostingSource,
    readonly term: string,
  ) {}

  /** The next posting, or undefined at the end; `read` counts fetched postings. */
  peek(read: { n: number }): Posting | undefined {
    if (this.at === this.buffer.length && !this.done) {
      const size = CHUNKS[Math.min(this.step++, CHUNKS.length - 1)] as number;
      this.buffer = this.source.walk(this.term, this.buffer.at(-1), size);
      this.at = 0;
      read.n += this.buffer.length;
      if (this.buffer.length < size) this.done = true;
    }
    return this.buffer[this.at];
  }

  take(): void {
    this.at++;
  }
}

/** A group's list: its terms' lists merged, each order once (at its best score). */
class GroupCursor {
  private readonly terms: TermCursor[];
  private readonly emitted = new Set<number>();
  /** The last posting taken: no order not yet taken ranks above it. */
  position: Posting | undefined;
  exhausted = false;

  constructor(source: PostingSource, terms: readonly string[]) {
    this.terms = terms.map((t) => new TermCursor(source, t));
  }

  /** The next order of this group (undefined at the end). */
  next(read: { n: number }): Posting | undefined {
    for (;;) {
      let best: TermCursor | undefined;
      let bestPosting: Posting | undefined;
      for (const cursor of this.terms) {
        const p = cursor.peek(read);
        if (p !== undefined && (bestPosting === undefined || before(p, bestPosting))) {
          best = cursor;
          bestPosting = p;
        }
      }
      if (best === undefined || bestPosting === undefined) {
        this.exhausted = true;
        return undefined;
      }
      best.take();
      this.position = bestPosting;
      if (!this.emitted.has(bestPosting.rowid)) {
        this.emitted.add(bestPosting.rowid);
        return bestPosting;
      }
    }
  }
}

/**
 * What is known of each order seen so far: its score per group, `undefined` where its score for
 * that group was not seen in that group's list (yet).
 */
class Scoreboard {
  private readonly known = new Map<number, Array<number | undefined>>();
  constructor(private readonly groups: readonly (readonly string[])[]) {}

  /** Records that group `g`'s list holds `p`; true the first time the order is seen at all. */
  saw(g: number, p: Posting): boolean {
    let scores = this.known.get(p.rowid);
    const first = scores === undefined;
    if (scores === undefined) {
      scores = new Array<number | undefined>(this.groups.length).fill(undefined);
      this.known.set(p.rowid, scores);
    }
    scores[g] = Math.max(scores[g] ?? 0, p.score);
    return first;
  }

  /**
   * Totals and coverage of `rowids`, looking up only the groups their lists did not show; a group
   * still unknown after that is absent (0). With `requireAllIn` (every group, rarest first),
   * groups are looked up one at a time in that order and only for the orders that had every group
   * so far: those missing one cannot be an answer, and uncorrelated words leave few orders after
   * the first lookup. Otherwise one {@link PostingSource.scores} call looks up everything.
   */
  rank(source: PostingSource, rowids: readonly number[], requireAllIn?: readonly number[]): Ranked[] {
    const steps = requireAllIn ? requireAllIn.map((g) => [g]) : [this.groups.map((_, g) => g)];
    let alive = rowids;
    for (const step of steps) {
      const missing = alive.filter((rowid) => step.some((g) => this.known.get(rowid)?.[g] === undefined));
      if (missing.length > 0) this.lookUp(source, missing, step);
      if (requireAllIn)
        alive = alive.filter((rowid) => step.every((g) => (this.known.get(rowid)?.[g] ?? 0) > 0));
    }
    return rowids.map((rowid) => {
      const scores = this.known.get(rowid) ?? [];
      let total = 0;
      let covered = 0;
      for (const s of scores) {
        total += s ?? 0;
        if ((s ?? 0) > 0) covered++;
      }
      return { rowid, total, covered };
    });
  }

  /** Looks up the scores of `rowids` for the groups `gs` (one call); what is still unknown is 0. */
  private lookUp(source: PostingSource, rowids: readonly number[], gs: readonly number[]): void {
    const groupsOf = new Map<string, number[]>();
    for (const g of gs)
      for (const t of this.groups[g] ?? []) groupsOf.set(t, [...(groupsOf.get(t) ?? []), g]);
    for (const s of source.scores(rowids, [...groupsOf.keys()])) {
      const scores = this.known.get(s.rowid);
      if (scores === undefined) continue;
      for (const g of groupsOf.get(s.term) ?? []) scores[g] = Math.max(scores[g] ?? 0, s.score);
    }
    for (const rowid of rowids) {
      const scores = this.known.get(rowid);
      if (scores) for (const g of gs) scores[g] ??= 0;
    }
  }
}

function byTotal(a: Ranked, b: Ranked): number {
  return b.total - a.total || b.rowid - a.rowid;
}

/**
 * The best `k` orders that have every group (see the file comment), best first.
 */
export function rankAll(source: PostingSource, groups: readonly (readonly string[])[], k: number): Ranked[] {
  if (groups.length === 0 || k <= 0) return [];
  const cursors = groups.map((terms) => new GroupCursor(source, terms));
  const read = { n: 0 };
  if (cursors.length === 1) {
    const out: Ranked[] = [];
    for (let p = cursors[0]?.next(read); p !== undefined && out.length < k; p = cursors[0]?.next(read)) {
      out.push({ rowid: p.rowid, total: p.score, covered: 1 });
    }
    return out;
  }
  const board = new Scoreboard(groups);
  const found: Ranked[] = [];
  const counts = source.counts(groups.flat());
  const sizes = groups.map((terms) => terms.reduce((n, t) => n + (counts.get(t) ?? 0), 0));
  const rarest = sizes.indexOf(Math.min(...sizes));
  const rarestSize = sizes[rarest] ?? 0;
  if (rarestSize === 0) return [];
  const rarestFirst = groups.map((_, g) => g).sort((a, b) => (sizes[a] ?? 0) - (sizes[b] ?? 0));
  /** Ranks newly seen orders and keeps the best `k` that have every group. */
  const keep = (fresh: readonly number[]): void => {
    for (const r of board.rank(source, fresh, rarestFirst)) if (r.covered === groups.length) found.push(r);
    found.sort(byTotal);
    if (found.length > k) found.length = k;
  };
  if (rarestSize <= SHORT_LIST) {
    keep(readList(source, groups[rarest] ?? [], rarest, counts, board));
    return found;
  }
  for (let step = 0; ; step++) {
    // Chunks grow each step, but all of a step together stays within the reading budget.
    const budget = Math.floor((MAX_POSTINGS - read.n) / cursors.length);
    const size = Math.min(CHUNKS[Math.min(step, CHUNKS.length - 1)] as number, budget);
    if (size <= 0) break;
    const fresh: number[] = [];
    cursors.forEach((cursor, g) => {
      for (let i = 0; i < size; i++) {
        const p = cursor.next(read);
        if (p === undefined) break;
        if (board.saw(g, p)) fresh.push(p.rowid);
      }
    });
    keep(fresh);
    // An order not seen yet is after every cursor: in every group at most the cursor's score.
    if (cursors.some((c) => c.exhausted)) break;
    const bound = cursors.reduce((sum, c) => sum + (c.position?.score ?? 0), 0);
    const oldest = Math.min(...cursors.map((c) => c.position?.rowid ?? 0));
    const kth = found[k - 1];
    if (kth !== undefined && (kth.total > bound || (kth.total === bound && kth.rowid > oldest))) break;
    if (read.n >= MAX_POSTINGS) break;
    if (step === 0 && rarestSize <= EXHAUSTIVE_LIST) {
      keep(readList(source, groups[rarest] ?? [], rarest, counts, board));
      break;
    }
  }
  return found;
}

/**
 * Every order having every group is in the rarest group's list: reads all of it (group `g`,
 * `terms`) onto the board and returns the orders not seen before.
 */
function readList(
  source: PostingSource,
  terms: readonly string[],
  g: number,
  counts: ReadonlyMap<string, number>,
  board: Scoreboard,
): number[] {
  const fresh: number[] = [];
  for (const term of terms) {
    const n = counts.get(term) ?? 0;
    if (n > 0) for (const p of source.walk(term, undefined, n)) if (board.saw(g, p)) fresh.push(p.rowid);
  }
  return fresh;
}

/**
 * The best `k` orders having any group, by coverage, then total, then newest, among the first `k`
 * of each group's list (see the file comment).
 */
export function rankAny(source: PostingSource, groups: readonly (readonly string[])[], k: number): Ranked[] {
  const read = { n: 0 };
  const board = new Scoreboard(groups);
  const rowids: number[] = [];
  groups.forEach((terms, g) => {
    const cursor = new GroupCursor(source, terms);
    for (let i = 0; i < k; i++) {
      const p = cursor.next(read);
      if (p === undefined) break;
      if (board.saw(g, p)) rowids.push(p.rowid);
    }
  });
  return board
    .rank(source, rowids)
    .filter((r) => r.covered > 0)
    .sort((a, b) => b.covered - a.covered || byTotal(a, b))
    .slice(0, k);
}
