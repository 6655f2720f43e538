/**
 * The scope and role names the project is built around, in one place: the resource server's
 * defaults (`MCP_REQUIRED_SCOPE`, `MCP_STAFF_SCOPE`, `MCP_STAFF_ROLE`), what the embedded
 * authorization server issues, and what the doctor expects.
 */

/** Every MCP request needs it: the tools `search` and `fetch`. */
export const MCP_SCOPE = 'mcp:tools';

/** A token with this scope sees every order. */
export const STAFF_SCOPE = 'orders:read:all';

/** A token with this realm role sees every order. */
export const STAFF_ROLE = 'staff';
