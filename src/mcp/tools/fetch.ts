/**
 * `fetch({id})` — OpenAI's connector contract: one text item whose text is
 * `{"id","title","text","url","metadata"}`. Someone else's order answers exactly like an unknown id.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { orderMetadata, orderText, orderTitle, orderUrl } from '../../orders/present.js';
import { viewerOf } from '../../orders/types.js';
import { principalOf, type ToolDeps } from '../context.js';
import { jsonResult, toolError } from './result.js';
import { withStableJsonSchema } from './schema.js';
import { inToolSpan } from './span.js';

const input = withStableJsonSchema(
  z.object({
    id: z.string().min(1).max(200).describe('Order id from search, e.g. "ord-100042"'),
  }),
);

const output = withStableJsonSchema(
  z.object({
    id: z.string(),
    title: z.string(),
    text: z.string(),
    url: z.string().url(),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  }),
);

export function registerFetch(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'fetch',
    {
      title: 'Fetch a cupcake order',
      description:
        'Fetch one order by the id that `search` returned (e.g. "ord-100042"): customer, items, prices, ' +
        'status, dates and notes, as {id,title,text,url,metadata}.',
      inputSchema: input,
      outputSchema: output,
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false, idempotentHint: true },
    },
    ({ id }, ctx) =>
      inToolSpan('fetch', async () => {
        const principal = principalOf(ctx.http?.authInfo);
        const order = principal ? await deps.store.get(id.trim(), viewerOf(principal)) : undefined;
        if (!order) {
          deps.onToolCall?.('fetch', 'error');
          return toolError(`No order with id "${id.slice(0, 200)}" was found among the orders you can see.`);
        }
        deps.onToolCall?.('fetch', 'ok');
        return jsonResult({
          id: order.id,
          title: orderTitle(order),
          text: orderText(order),
          url: orderUrl(deps.serverUrl, order.id),
          metadata: orderMetadata(order),
        });
      }),
  );
}
