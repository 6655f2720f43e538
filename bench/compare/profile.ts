/**
 * Self-time summary of a V8 `.cpuprofile` (as written by `node --cpu-prof`): the top functions by
 * self time, and self time grouped by where the code lives (a package in node_modules, Node's
 * internals, src/, bench/, GC, …). Idle time is left out of the percentages.
 *
 *   npx tsx bench/compare/profile.ts bench/results/prof/<dir>/CPU.….cpuprofile [--top 25]
 *
 * bench/compare.ts calls {@link summarizeProfile} after a `--cpu-prof <target>` run.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FrameTime {
  name: string;
  where: string;
  group: string;
  selfMs: number;
  /** Share of the non-idle time. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: FrameTime[];
  groups: { group: string; selfMs: number; pct: number }[];
}

const ROOT = process.cwd();

function location(url: string): string {
  if (!url) return '';
  if (url.startsWith('file://')) {
    try {
      return relative(ROOT, fileURLToPath(url));
    } catch {
      return url;
    }
  }
  return url;
}

/** Where a frame's code lives: a package, `node:internal`, `src`, `bench`, or a V8 pseudo frame. */
function groupOf(frame: CallFrame, where: string): string {
  const name = frame.functionName;
  if (!frame.url && name.startsWith('(')) return name; // (garbage collector), (program), (idle)
  const nm = where.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = where.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? where);
  }
  if (where.startsWith('node:')) return where.startsWith('node:internal') ? 'node:internal' : where;
  if (where.startsWith('src/')) return `src/${where.split('/')[1]}`;
  if (where.startsWith('bench/')) return 'bench';
  if (!where) return '(native/builtin)';
  return where;
}

export function summarizeProfile(file: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; attribute the interval to the sample that ends it.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const frames = new Map<string, { name: string; where: string; group: string; us: number }>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const base = location(cf.url);
    const where = base ? `${base}:${cf.lineNumber + 1}` : '';
    const name = cf.functionName || '(anonymous)';
    const key = `${name}\u0000${where}`;
    const entry = frames.get(key) ?? { name, where, group: groupOf(cf, base), us: 0 };
    entry.us += us;
    frames.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const sorted = [...frames.values()].sort((a, b) => b.us - a.us);
  const groups = new Map<string, number>();
  for (const f of sorted) groups.set(f.group, (groups.get(f.group) ?? 0) + f.us);
  return {
    file,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    top: sorted.slice(0, topN).map((f) => ({
      name: f.name,
      where: f.where,
      group: f.group,
      selfMs: f.us / 1000,
      pct: pct(f.us),
    })),
    groups: [...groups.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, selfMs: us / 1000, pct: pct(us) })),
  };
}

export function formatProfile(s: ProfileSummary, groupsN = 15): string {
  const lines = [
    `profile ${relative(ROOT, s.file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ` +
      `${(s.busyMs / 1000).toFixed(1)} s busy (percentages are of busy time)`,
    '',
    '  self ms      %  function  (location)',
  ];
  for (const f of s.top) {
    lines.push(
      `${f.selfMs.toFixed(0).padStart(8)} ${f.pct.toFixed(1).padStart(6)}  ${f.name}${f.where ? `  (${f.where})` : ''}`,
    );
  }
  lines.push('', '  self ms      %  by where the code lives');
  for (const g of s.groups.slice(0, groupsN)) {
    lines.push(`${g.selfMs.toFixed(0).padStart(8)} ${g.pct.toFixed(1).padStart(6)}  ${g.group}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write('Usage: npx tsx bench/compare/profile.ts <file.cpuprofile> [--top 25]\n');
    process.exit(2);
  }
  for (const file of positionals) console.log(formatProfile(summarizeProfile(file, Number(values.top))));
}
