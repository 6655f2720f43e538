/**
 * `fetch({id})` — OpenAI's connector contract: one text item whose text is
 * `{"id","title","text","url","metadata"}`. Someone else's order answers exactly like an unknown id.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { viewerOf } from '../../auth/principal.js';
import { type Order, orderTitle } from '../../orders/types.js';
import { principalOf, type ToolDeps } from '../context.js';
import { jsonResult, toolError } from './result.js';
import { orderUrl } from './search.js';

const output = z.object({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  url: z.string().url(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export function money(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

/** The readable document the model gets for an order. */
export function orderText(o: Order): string {
  const lines = [
    `Order ${o.id}`,
    `Customer: ${o.customerName} <${o.customerEmail}>`,
    `Status: ${o.status.replaceAll('_', ' ')}`,
    `Ordered: ${o.orderedAt}`,
    `Delivery date: ${o.deliveryDate}`,
    'Items:',
    ...o.items.map(
      (i) =>
        `- ${i.quantity} × ${i.flavour} at ${money(i.unitPriceCents, o.currency)} = ${money(i.quantity * i.unitPriceCents, o.currency)}`,
    ),
    `Total: ${money(o.totalCents, o.currency)}`,
  ];
  if (o.notes) lines.push(`Notes: ${o.notes}`);
  return lines.join('\n');
}

export function orderMetadata(o: Order): Record<string, string | number> {
  return {
    customer_name: o.customerName,
    customer_email: o.customerEmail,
    status: o.status,
    ordered_at: o.orderedAt,
    delivery_date: o.deliveryDate,
    total: o.totalCents / 100,
    currency: o.currency,
    item_count: o.items.reduce((n, i) => n + i.quantity, 0),
  };
}

export function registerFetch(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'fetch',
    {
      title: 'Fetch a cupcake order',
      description:
        'Fetch one order by the id that `search` returned (e.g. "ord-100042"): customer, items, prices, ' +
        'status, dates and notes, as {id,title,text,url,metadata}.',
      inputSchema: z.object({
        id: z.string().min(1).max(200).describe('Order id from search, e.g. "ord-100042"'),
      }),
      outputSchema: output,
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false, idempotentHint: true },
    },
    async ({ id }, ctx) => {
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
    },
  );
}
