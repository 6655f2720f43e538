/**
 * The doctor's output: one line per check for people, JSON for machines, Markdown for the
 * evidence bundle.
 */
import type { DoctorReport } from './run.js';
import type { CheckResult } from './types.js';

const MARK = { pass: '✓', fail: '✗', skip: '–' } as const;

export function renderText(report: DoctorReport, color = false): string {
  const paint = (s: string, code: number) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines = [`sample-mcp doctor: ${report.url}`, ''];
  for (const c of report.checks) {
    const mark = paint(MARK[c.status], c.status === 'pass' ? 32 : c.status === 'fail' ? 31 : 90);
    lines.push(`${mark} ${c.title}${c.detail ? ` — ${c.detail}` : ''}`);
    if (c.status === 'fail') {
      if (c.cause) lines.push(`    cause: ${c.cause}`);
      if (c.fix) lines.push(`    fix:   ${c.fix}`);
    }
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const passed = report.checks.filter((c) => c.status === 'pass').length;
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  lines.push('', `${passed} checks passed, ${failed} failed, ${skipped} skipped`);
  return lines.join('\n');
}

export function renderJson(report: DoctorReport): string {
  const { context: _c, ...rest } = report;
  return JSON.stringify(rest, null, 2);
}

function row(c: CheckResult): string {
  const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return `| ${MARK[c.status]} | ${cell(c.title)} | ${cell(c.detail)} | ${cell(c.status === 'fail' ? `${c.cause ?? ''} — fix: ${c.fix ?? ''}` : '')} |`;
}

export function renderMarkdown(report: DoctorReport, files: string[]): string {
  const ctx = report.context;
  const claims = ctx.tokenClaims;
  return [
    `# MCP server evidence: ${report.url}`,
    '',
    `Generated ${new Date().toISOString()} by \`sample-mcp doctor --evidence\`. Result: **${report.ok ? 'all checks passed' : 'some checks failed'}**.`,
    '',
    '## Chain',
    '',
    `- MCP endpoint: \`${report.url}\` (protocol ${ctx.protocolVersion ?? 'not reached'})`,
    `- Protected resource metadata: \`${ctx.challenge?.resource_metadata ?? '—'}\` → resource \`${String(ctx.prm?.resource ?? '—')}\``,
    `- Authorization server: \`${ctx.issuer ?? '—'}\``,
    claims
      ? `- Validated token: iss \`${String(claims.iss)}\`, aud \`${JSON.stringify(claims.aud)}\`, sub \`${String(claims.sub)}\`, scope \`${String(claims.scope ?? claims.scp ?? '')}\` (header and claims only; the signature and the token are not recorded)`
      : '- No token was used (no credentials given).',
    '',
    '## Checks',
    '',
    '| | check | seen | cause and fix |',
    '|---|---|---|---|',
    ...report.checks.map(row),
    '',
    '## Files',
    '',
    ...files.map((f) => `- [${f}](${f})`),
    '',
  ].join('\n');
}
