#!/usr/bin/env node
// sample-mcp <command> [args]: runs the TypeScript entry point of a command through tsx.
//   sample-mcp doctor <MCP URL> [options]   sample-mcp start   sample-mcp serve   sample-mcp token <email>
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const commands = { doctor: 'doctor', start: 'start', serve: 'serve', token: 'token' };
const [command, ...rest] = process.argv.slice(2);
if (!command || !(command in commands)) {
  console.error(`usage: sample-mcp <${Object.keys(commands).join('|')}> [args]`);
  process.exit(2);
}
const entry = fileURLToPath(new URL(`../src/cli/${commands[command]}.ts`, import.meta.url));
const tsx = import.meta.resolve('tsx');
const r = spawnSync(process.execPath, ['--import', tsx, entry, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
