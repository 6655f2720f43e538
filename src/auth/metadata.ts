/**
 * RFC 9728 Protected Resource Metadata for the two resources this server is:
 * the bare origin (what users paste into ChatGPT) and `<origin>/mcp` (the endpoint).
 */

export interface MetadataConfig {
  serverUrl: string;
  issuer: string;
  requiredScope: string;
}

export const PRM_PATH = '/.well-known/oauth-protected-resource';

/** `''` for the origin resource, `'/mcp'` for the endpoint resource. */
export type ResourcePath = '' | '/mcp';

export function resourceFor(serverUrl: string, path: ResourcePath): string {
  return `${serverUrl}${path}`;
}

/** The metadata URL a client is pointed at from a 401 for `resource`. */
export function metadataUrlFor(serverUrl: string, path: ResourcePath): string {
  return `${serverUrl}${PRM_PATH}${path}`;
}

export function protectedResourceMetadata(c: MetadataConfig, path: ResourcePath): Record<string, unknown> {
  return {
    resource: resourceFor(c.serverUrl, path),
    // Byte-exact copy of the configured issuer: clients compare it with the AS metadata `issuer`.
    authorization_servers: [c.issuer],
    // Only the scope every client needs. `orders:read:all` is deliberately not advertised: clients
    // request everything listed here, and staff access must come from the user's role, not a request.
    scopes_supported: [c.requiredScope],
    bearer_methods_supported: ['header'],
    resource_name: 'Sample MCP: cupcake orders',
    resource_documentation: `${c.serverUrl}/`,
  };
}
