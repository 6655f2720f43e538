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
export function orderText(order: Order): string {
  const lines = [
    `Order ${order.id}`,
    `Customer: ${order.customerName} <${order.customerEmail}>`,
    `Status: ${order.status.replaceAll('_', ' ')}`,
    `Ordered: ${order.orderedAt}`,
    `Delivery date: ${order.deliveryDate}`,
    'Items:',
    ...order.items.map(
      (i) =>
        `- ${i.quantity} × ${i.flavour} at ${money(i.unitPriceCents, order.currency)} = ${money(i.quantity * i.unitPriceCents, order.currency)}`,
    ),
    `Total: ${money(order.totalCents, order.currency)}`,
  ];
  if (order.notes) lines.push(`Notes: ${order.notes}`);
  return lines.join('\n');
}

export function orderMetadata(order: Order): Record<string, string | number> {
  return {
    customer_name: order.customerName,
    customer_email: order.customerEmail,
    status: order.status,
    ordered_at: order.orderedAt,
    delivery_date: order.deliveryDate,
    total: order.totalCents / 100,
    currency: order.currency,
    item_count: order.items.reduce((n, i) => n + i.quantity, 0),
  };
}
