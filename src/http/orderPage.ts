/**
 * Small HTML pages for people who open an order's `url` in a browser.
 */
import { money } from '../mcp/tools/fetch.js';
import type { Order } from '../orders/types.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}table{border-collapse:collapse}td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}
.muted{color:#666}</style></head><body>${body}</body></html>`;
}

export function orderPage(order: Order | undefined, id: string): string {
  if (!order) {
    return page(
      'Order not found',
      `<h1>Order not found</h1><p>No order <code>${escapeHtml(id.slice(0, 200))}</code> is visible to you.</p>`,
    );
  }
  const rows = order.items
    .map(
      (i) =>
        `<tr><td>${escapeHtml(i.flavour)}</td><td>${i.quantity}</td><td>${money(i.unitPriceCents, order.currency)}</td></tr>`,
    )
    .join('');
  return page(
    `Order ${order.id}`,
    `<h1>Order ${escapeHtml(order.id)}</h1>
<p>${escapeHtml(order.customerName)} · ${escapeHtml(order.status.replaceAll('_', ' '))} · delivery ${escapeHtml(order.deliveryDate)}</p>
<table><thead><tr><th>Flavour</th><th>Qty</th><th>Unit price</th></tr></thead><tbody>${rows}</tbody></table>
<p><strong>Total ${money(order.totalCents, order.currency)}</strong></p>
${order.notes ? `<p>Notes: ${escapeHtml(order.notes)}</p>` : ''}`,
  );
}

export function signInPage(serverUrl: string): string {
  return page(
    'Sign-in required',
    `<h1>Sign-in required</h1><p>Orders are private. Open this order from the assistant (ChatGPT, Claude, VS Code)
where you connected <code>${escapeHtml(serverUrl)}</code>, or call this URL with an
<code>Authorization: Bearer</code> access token.</p>`,
  );
}
