/**
 * The product mark shared by every HTML page (landing page, login and consent): an inline SVG
 * cupcake, so pages load nothing from elsewhere.
 */
export const LOGO = `<svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true"><path d="M6 15c0-5 4.5-9 10-9s10 4 10 9H6z" fill="#f8bbd0"/><path d="M9 9.5c2-2 4.5-3 7-3" stroke="#c2185b" stroke-width="1.5" fill="none"/><circle cx="16" cy="5" r="2.2" fill="#c2185b"/><path d="M7 16h18l-2.2 11.5a2 2 0 0 1-2 1.5h-9.6a2 2 0 0 1-2-1.5z" fill="#8d6e63"/><path d="M11 16l1 13M16 16v13M21 16l-1 13" stroke="#6d4c41" stroke-width="1"/></svg>`;
