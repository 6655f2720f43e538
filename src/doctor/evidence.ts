/**
 * `doctor --evidence <dir>`: the "Gate D" bundle a reviewer can read: metadata documents, the 401
 * exchange, the registration, the token's header and claims (never the token or its signature),
 * the tool results, the server log lines that show the validated `iss`/`aud` and the `/mcp` path,
 * and `report.md`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderJson, renderMarkdown } from './render.js';
import type { DoctorReport } from './run.js';

function write(dir: string, name: string, value: unknown, files: string[]): void {
  writeFileSync(join(dir, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  files.push(name);
}

/** Log lines (JSON, one per line) of validated requests to the MCP endpoint, for this token's subject. */
export function evidenceLogLines(logText: string, sub: unknown): string[] {
  return logText.split('\n').filter((line) => {
    try {
      const l = JSON.parse(line) as Record<string, unknown>;
      return (
        l.event === 'request' &&
        typeof l.iss === 'string' &&
        l.aud !== undefined &&
        (sub === undefined || l.sub === sub) &&
        ['/mcp', '/'].includes(String(l.path))
      );
    } catch {
      return false;
    }
  });
}

export function writeEvidence(dir: string, report: DoctorReport, serverLog?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const ctx = report.context;
  const files: string[] = [];
  const byName = (name: string) => ctx.http.exchanges.filter((e) => e.name === name);
  for (const [name, file] of [
    ['prm-root', 'metadata-root.json'],
    ['prm-mcp', 'metadata-mcp.json'],
  ] as const) {
    const ex = byName(name)[0];
    if (ex?.response) write(dir, file, ex.response.body, files);
  }
  if (ctx.asMetadata) write(dir, 'authorization-server-metadata.json', ctx.asMetadata, files);
  const challenge = byName('challenge')[0];
  if (challenge) write(dir, '401-exchange.json', challenge, files);
  const reg = byName('registration')[0];
  if (reg) {
    const body = { ...(reg.response?.body as Record<string, unknown> | undefined) };
    for (const k of ['registration_access_token', 'client_secret']) if (k in body) body[k] = '[redacted]';
    write(dir, 'registration.json', { request: reg.request, response: { ...reg.response, body } }, files);
  }
  if (ctx.tokenClaims)
    write(
      dir,
      'token.json',
      { header: ctx.tokenHeader, claims: ctx.tokenClaims, note: 'header and claims only' },
      files,
    );
  if (ctx.tools) write(dir, 'tools-list.json', ctx.tools, files);
  if (ctx.searchResult) write(dir, 'search.json', ctx.searchResult, files);
  if (ctx.fetchResult) write(dir, 'fetch.json', ctx.fetchResult, files);
  if (serverLog) {
    const text = existsSync(serverLog) ? readFileSync(serverLog, 'utf8') : '';
    const lines = evidenceLogLines(text, ctx.tokenClaims?.sub);
    write(dir, 'server-log.jsonl', lines.length ? `${lines.join('\n')}\n` : '', files);
  }
  write(dir, 'exchanges.json', ctx.http.exchanges, files);
  write(dir, 'checks.json', JSON.parse(renderJson(report)), files);
  writeFileSync(join(dir, 'report.md'), renderMarkdown(report, files));
  return ['report.md', ...files];
}
