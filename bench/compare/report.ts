/**
 * Numbers and output of bench/compare.ts: per-round measurements, medians, the ratio targets,
 * the markdown tables, and the JSON file (formatted the way Biome formats JSON, so `biome check`
 * stays clean while the file sits under bench/).
 */

export interface RoundResult {
  round: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** Connection errors, including timeouts. */
  errors: number;
  timeouts: number;
  rssMiB: number;
}

export interface TargetReport {
  name: string;
  what: string;
  body: string;
  bytes: number;
  rounds: RoundResult[];
  failed?: string;
  /** Lines the child logged (warn level and above for this server). */
  logLines: number;
  profiled?: boolean;
  /** `user|query` keys whose result ids differ from the first target's. */
  mismatches: string[];
}

export interface Summary {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  rssMiB: number;
  errors: number;
}

export interface MemoryReport {
  name: string;
  rss10k: number;
  rss100k: number;
  ratio: number;
  errors: number;
  failed?: string;
}

export interface RatioReport {
  name: string;
  overSdk: number;
  overPlain: number;
  p99: number;
  okSdk: boolean;
  okPlain: boolean;
  okP99: boolean;
}

export const GOALS = { overSdk: 4.0, overPlain: 0.75, p99Ms: 25, memoryRatio: 1.2 };

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(t: TargetReport): Summary {
  const last = t.rounds[t.rounds.length - 1];
  return {
    name: t.name,
    reqPerSec: median(t.rounds.map((r) => r.reqPerSec)),
    p50: median(t.rounds.map((r) => r.p50)),
    p99: median(t.rounds.map((r) => r.p99)),
    rssMiB: last?.rssMiB ?? Number.NaN,
    errors: t.rounds.reduce((n, r) => n + r.non2xx + r.errors, 0),
  };
}

export function ratios(summaries: readonly Summary[]): RatioReport[] {
  const plain = summaries.find((s) => s.name === 'plain');
  const sdk = summaries.find((s) => s.name === 'sdk-stateless');
  return summaries
    .filter((s) => s.name.startsWith('ours-'))
    .map((s) => {
      const overSdk = sdk ? s.reqPerSec / sdk.reqPerSec : Number.NaN;
      const overPlain = plain ? s.reqPerSec / plain.reqPerSec : Number.NaN;
      return {
        name: s.name,
        overSdk,
        overPlain,
        p99: s.p99,
        okSdk: overSdk >= GOALS.overSdk,
        okPlain: overPlain >= GOALS.overPlain,
        okP99: s.p99 <= GOALS.p99Ms,
      };
    });
}

const num = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mark = (ok: boolean, x: number) => (Number.isFinite(x) ? (ok ? ' ✓' : ' ✗') : '');

export function throughputTable(targets: readonly TargetReport[]): string {
  const rows = [
    '| target | req/s (median) | p50 ms | p99 ms | RSS MiB | errors | body | req/s per round |',
    '|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const t of targets) {
    const s = summarize(t);
    const name = `${t.name}${t.profiled ? ' (profiled)' : ''}`;
    if (t.failed && t.rounds.length === 0) {
      rows.push(`| ${name} | failed: ${t.failed.slice(0, 120).replaceAll('|', '/')} | | | | | | |`);
      continue;
    }
    rows.push(
      `| ${name} | ${num(s.reqPerSec)} | ${num(s.p50)} | ${num(s.p99)} | ${num(s.rssMiB)} | ${s.errors} | ` +
        `${t.body} | ${t.rounds.map((r) => num(r.reqPerSec)).join(', ')} |`,
    );
  }
  return rows.join('\n');
}

export function ratioTable(rs: readonly RatioReport[]): string {
  const rows = [
    `| mode | c/b (≥ ${GOALS.overSdk.toFixed(1)}) | c/a (≥ ${GOALS.overPlain}) | p99 ms (≤ ${GOALS.p99Ms}) |`,
    '|---|---:|---:|---:|',
  ];
  for (const r of rs) {
    rows.push(
      `| ${r.name} | ${num(r.overSdk, 2)}${mark(r.okSdk, r.overSdk)} | ${num(r.overPlain, 2)}${mark(r.okPlain, r.overPlain)} | ` +
        `${num(r.p99)}${mark(r.okP99, r.p99)} |`,
    );
  }
  return rows.join('\n');
}

export function memoryTable(ms: readonly MemoryReport[]): string {
  const rows = [
    `| target | RSS MiB @10k | RSS MiB @100k | ratio (≤ ${GOALS.memoryRatio}) | errors |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const m of ms) {
    if (m.failed) {
      rows.push(`| ${m.name} | failed: ${m.failed.slice(0, 120).replaceAll('|', '/')} | | | |`);
      continue;
    }
    rows.push(
      `| ${m.name} | ${num(m.rss10k)} | ${num(m.rss100k)} | ${num(m.ratio, 2)}${mark(m.ratio <= GOALS.memoryRatio, m.ratio)} | ${m.errors} |`,
    );
  }
  return rows.join('\n');
}

/**
 * JSON as Biome formats it (2 spaces; objects always expanded; arrays of primitives on one line
 * when that fits its 110-column width, else one element per line; arrays of objects expanded).
 * `prefix` is the width of what precedes the value on its line.
 */
export function biomeJson(value: unknown, indent = '', prefix = 0): string {
  const inner = `${indent}  `;
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(typeof value === 'number' && !Number.isFinite(value) ? null : value) ?? 'null';
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const line = `[${value.map((v) => biomeJson(v)).join(', ')}]`;
      if (prefix + line.length + 1 <= 110) return line;
    }
    return `[\n${value.map((v) => `${inner}${biomeJson(v, inner, inner.length)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => {
    const head = `${inner}${JSON.stringify(k)}: `;
    return `${head}${biomeJson(v, inner, head.length)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}
