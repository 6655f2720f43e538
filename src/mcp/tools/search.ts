/**
 * `search({query})` — OpenAI's connector contract: one text item whose text is
 * `{"results":[{"id","title","url"}]}`, best match first, only orders the caller may see.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { orderUrl } from '../../orders/present.js';
import { viewerOf } from '../../orders/types.js';
import { principalOf, type ToolDeps } from '../context.js';
import { jsonResult, toolError } from './result.js';
import { withStableJsonSchema } from './schema.js';
import { inToolSpan } from './span.js';

export const SEARCH_LIMIT = 10;
export const MAX_QUERY_LENGTH = 20_000;

const input = withStableJsonSchema(
  z.object({
    query: z.string().max(MAX_QUERY_LENGTH).describe('Words to look for, e.g. "chocolate birthday"'),
  }),
);

const output = withStableJsonSchema(
  z.object({
    results: z.array(z.object({ id: z.string(), title: z.string(), url: z.string().url() })),
  }),
);

export function registerSearch(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'search',
    {
      title: 'Search cupcake orders',
      description:
        'Search the cupcake orders you are allowed to see (your own; staff see all) by flavour, customer, ' +
        'status, date or notes. Returns up to 10 matches as {results:[{id,title,url}]}; pass an id to `fetch` ' +
        'for the full order. An empty query lists the most recent orders.',
      inputSchema: input,
      outputSchema: output,
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false, idempotentHint: true },
    },
    ({ query }, ctx) =>
      inToolSpan('search', async (span) => {
        const principal = principalOf(ctx.http?.authInfo);
        if (!principal) {
          deps.onToolCall?.('search', 'error');
          return toolError('Not authenticated');
        }
        const hits = await deps.store.search(query, viewerOf(principal), SEARCH_LIMIT);
        deps.onToolCall?.('search', 'ok');
        span.setAttribute('sample_mcp.tool.results', hits.length);
        return jsonResult({
          results: hits.map((h) => ({ id: h.id, title: h.title, url: orderUrl(deps.serverUrl, h.id) })),
        });
      }),
  );
}
