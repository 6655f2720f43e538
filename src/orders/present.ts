/**
 * How an order reads, for the model and for people: its title (search hits, fetch results, the
 * order page), the text and metadata `fetch` returns, its URL, and amounts of money.
 */
import type { Order } from './types.js';

/** Human title of an order, used in search hits and fetch results. */
export function orderTitle(order: Pick<Order, 'id' | 'customerName' | 'items' | 'deliveryDate'>): string {
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  const flavours = order.items.map((i) => i.flavour).join(', ');
  const noun = count === 1 ? 'cupcake' : 'cupcakes';
  return `Order ${order.id}: ${count} ${noun} (${flavours}) for ${order.customerName}, due ${order.deliveryDate}`;
}

/** The page for an order under the server's public URL (the tools' `url`). */
export function orderUrl(serverUrl: string, id: string): string {
  return `${serverUrl}/orders/${encodeURIComponent(id)}`;
}

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
