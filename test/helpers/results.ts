/**
 * Where tests leave what a person may want to look at afterwards (screenshots, the conformance
 * suite's reports): `$SAMPLE_MCP_TEST_RESULTS`, default `<tmpdir>/sample-mcp-test-results`. Never the
 * checkout: `git status` stays clean after `npm test`.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `<results>/<parts…>`, created. */
export function resultsDir(...parts: string[]): string {
  const dir = join(
    process.env.SAMPLE_MCP_TEST_RESULTS ?? join(tmpdir(), 'sample-mcp-test-results'),
    ...parts,
  );
  mkdirSync(dir, { recursive: true });
  return dir;
}
