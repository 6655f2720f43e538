/**
 * `GET /orders/{id}`: the order a tool result's `url` points at, as the signed-in user may see
 * it — an HTML page for browsers, JSON otherwise; someone else's order is a 404 like an unknown id.
 */
import type { Principal } from '../../auth/principal.js';
import { money } from '../../orders/present.js';
import { type Order, type OrderStore, viewerOf } from '../../orders/types.js';
import { escapeHtml, htmlDocument, sendHtml } from '../../web/html.js';
import { sendJson } from '../../web/nodeIo.js';
import type { Exchange, Handler } from '../exchange.js';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}table{border-collapse:collapse}td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}
.muted{color:#666}`;

const page = (title: string, body: string) => htmlDocument({ title, style: STYLE, body });

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

/** What a browser without a token sees at an order's URL (the bearer gate's `signInPage`). */
export function signInPage(serverUrl: string): string {
  return page(
    'Sign-in required',
    `<h1>Sign-in required</h1><p>Orders are private. Open this order from the assistant (ChatGPT, Claude, VS Code)
where you connected <code>${escapeHtml(serverUrl)}</code>, or call this URL with an
<code>Authorization: Bearer</code> access token.</p>`,
  );
}

export function ordersRoute(store: Pick<OrderStore, 'get'>): Handler {
  return async (x: Exchange) => {
    let id: string;
    try {
      id = decodeURIComponent(x.url.pathname.slice('/orders/'.length));
    } catch {
      id = x.url.pathname.slice('/orders/'.length); // malformed percent-encoding: no such order
    }
    const order = await store.get(id, viewerOf(x.principal as Principal));
    if ((x.req.headers.accept ?? '').includes('text/html')) {
      sendHtml(x.res, order ? 200 : 404, orderPage(order, id));
    } else if (order) {
      sendJson(x.res, 200, order);
    } else {
      sendJson(x.res, 404, {
        error: 'not_found',
        error_description: `No order with id "${id.slice(0, 200)}"`,
      });
    }
  };
}
