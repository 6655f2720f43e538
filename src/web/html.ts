/**
 * Server-rendered HTML: escaping, the product mark, the document shell every page shares, and
 * sending a page with the headers that keep it inert (a CSP that allows inline styles only, no
 * framing, no sniffing, not cached).
 */
import type { ServerResponse } from 'node:http';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The product mark: an inline SVG cupcake, so pages load nothing from elsewhere. */
export const LOGO = `<svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true"><path d="M6 15c0-5 4.5-9 10-9s10 4 10 9H6z" fill="#f8bbd0"/><path d="M9 9.5c2-2 4.5-3 7-3" stroke="#c2185b" stroke-width="1.5" fill="none"/><circle cx="16" cy="5" r="2.2" fill="#c2185b"/><path d="M7 16h18l-2.2 11.5a2 2 0 0 1-2 1.5h-9.6a2 2 0 0 1-2-1.5z" fill="#8d6e63"/><path d="M11 16l1 13M16 16v13M21 16l-1 13" stroke="#6d4c41" stroke-width="1"/></svg>`;

/** Content-Security-Policy of every page: nothing but inline styles and `data:` images. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'";

/** A whole HTML document; `title` is escaped, `style` and `body` are inserted as they are. */
export function htmlDocument(page: {
  title: string;
  style: string;
  body: string;
  noReferrer?: boolean;
}): string {
  const referrer = page.noReferrer ? '<meta name="referrer" content="no-referrer">' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${referrer}<title>${escapeHtml(page.title)}</title><style>${page.style}</style></head>
<body>${page.body}</body></html>`;
}

/** Sends a page with {@link PAGE_CSP}, `nosniff` and `no-store`, plus `headers`. */
export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(html);
}
