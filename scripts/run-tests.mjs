#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in test runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the file list is built here.
// Suites that skip for a missing component (test/helpers/requirements.ts) note it in a log; the run
// ends with one summary line for them. Under CI=true a skip fails the run.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .map((p) => relative(root, p))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files];
const skipDir = mkdtempSync(join(tmpdir(), 'sample-mcp-skips-'));
const skipLog = join(skipDir, 'skips.jsonl');
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test', SAMPLE_MCP_SKIP_LOG: skipLog },
});
const skips = existsSync(skipLog)
  ? readFileSync(skipLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
  : [];
rmSync(skipDir, { recursive: true, force: true });
if (skips.length) {
  const suites = new Set(skips.map((s) => s.suite));
  const byWhat = new Map();
  for (const s of skips) {
    const entry = byWhat.get(s.what) ?? { fix: s.fix, suites: new Set() };
    entry.suites.add(s.suite);
    byWhat.set(s.what, entry);
  }
  const list = [...byWhat].map(([what, { fix }]) => `${what} (${fix})`).join(', ');
  console.log(`\n${suites.size} suite${suites.size === 1 ? '' : 's'} skipped: ${list}`);
  for (const [what, { suites }] of byWhat) console.log(`  ${what}: ${[...suites].join('; ')}`);
  if (process.env.CI) console.log('CI=true: a skipped suite fails the run');
}
process.exit(skips.length && process.env.CI ? 1 : (r.status ?? 1));
