/**
 * The MCP server definition: one factory that builds an `McpServer` with the `search` and
 * `fetch` tools. Both protocol eras (2025 sessions/stateless and the 2026-07-28 wire) and the
 * legacy SSE transport are served from this one definition, so they cannot drift apart.
 *
 * @example
 * ```ts
 * const factory = createServerFactory({ store, serverUrl: 'https://mcp.example.com' });
 * const server = factory(); // an McpServer with the search and fetch tools
 * ```
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { ToolDeps } from './context.js';
import { type InstrumentOptions, instrumentServer } from './instrument.js';
import { registerFetch } from './tools/fetch.js';
import { registerSearch } from './tools/search.js';

export const SERVER_INFO = { name: 'sample-mcp', title: 'Sample MCP: cupcake orders', version: '0.1.0' };

export const TOOL_NAMES = ['search', 'fetch'] as const;

/**
 * @param telemetry - spans (when tracing) and the operation-duration metric for every request
 */
export function createServerFactory(
  deps: ToolDeps,
  telemetry?: Omit<InstrumentOptions, 'tools'>,
): () => McpServer {
  return () => {
    const server = new McpServer(SERVER_INFO, {
      capabilities: { tools: { listChanged: false } },
      instructions:
        'Cupcake shop orders. Use `search` to find orders (by flavour, customer, status, notes or date) and ' +
        '`fetch` with a returned id for the full order. Users only see their own orders; staff see all.',
    });
    registerSearch(server, deps);
    registerFetch(server, deps);
    if (telemetry) instrumentServer(server, { ...telemetry, tools: TOOL_NAMES });
    return server;
  };
}
