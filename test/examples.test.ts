/**
 * Examples cannot rot: every `@example` in src/ is a fenced code block that equals one
 * `// #region` of examples/entryPoints.ts, which `npm run typecheck` compiles, and every region is
 * shown by exactly one `@example`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = process.cwd();

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function dedent(lines: string[]): string {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent).trimEnd()).join('\n');
}

/** `// #region name` … `// #endregion` bodies of examples/entryPoints.ts. */
function regions(): Map<string, string> {
  const text = readFileSync(join(ROOT, 'examples', 'entryPoints.ts'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^[ \t]*\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion/gm)) {
    out.set(m[1] as string, dedent((m[2] as string).replace(/\n$/, '').split('\n')));
  }
  return out;
}

interface Example {
  where: string;
  code: string | undefined;
}

/** Every `@example` of src/: its fenced code, or undefined when it has no ```ts fence. */
function examples(): Example[] {
  const out: Example[] = [];
  for (const file of walk(join(ROOT, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/^\s*\* @example\b/.test(line)) return;
      const where = `${relative(ROOT, file)}:${i + 1}`;
      if (!/^\s*\* ```ts\s*$/.test(lines[i + 1] ?? '')) {
        out.push({ where, code: undefined });
        return;
      }
      const body: string[] = [];
      for (let j = i + 2; j < lines.length && !/^\s*\* ```\s*$/.test(lines[j] ?? ''); j++) {
        body.push((lines[j] as string).replace(/^\s*\* ?/, ''));
      }
      out.push({ where, code: dedent(body) });
    });
  }
  return out;
}

test('every @example in src/ is a region of examples/entryPoints.ts, and every region is shown once', () => {
  const known = regions();
  assert.ok(known.size > 0, 'examples/entryPoints.ts has regions');
  const shown = new Map<string, string[]>();
  for (const ex of examples()) {
    assert.ok(ex.code !== undefined, `${ex.where}: an @example is a \`\`\`ts block`);
    const name = [...known].find(([, code]) => code === ex.code)?.[0];
    assert.ok(
      name,
      `${ex.where}: this @example is not a region of examples/entryPoints.ts (add it there, where it is compiled, and copy it verbatim):\n${ex.code}`,
    );
    shown.set(name, [...(shown.get(name) ?? []), ex.where]);
  }
  for (const name of known.keys()) {
    assert.equal(
      shown.get(name)?.length,
      1,
      `region ${name} is shown by ${shown.get(name)?.join(', ') ?? 'no @example'}`,
    );
  }
});
