/**
 * RFC 9728 Protected Resource Metadata, public and cacheable: `/.well-known/oauth-protected-resource`
 * for the origin, `…/mcp` for the `/mcp` endpoint. Any origin may read it (CORS `*`).
 */
import { protectedResourceMetadata, type ResourcePath } from '../../auth/metadata.js';
import type { Config } from '../../config/config.js';
import { sendJson } from '../../web/nodeIo.js';
import type { Handler } from '../exchange.js';

/** CORS headers for public documents: any origin, no credentials. */
export const PUBLIC_CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'MCP-Protocol-Version, Content-Type',
};

export function metadataRoute(config: Config, resource: ResourcePath): Handler {
  return ({ req, res }) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, PUBLIC_CORS).end();
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      const doc = protectedResourceMetadata(config, resource);
      sendJson(res, 200, doc, { ...PUBLIC_CORS, 'cache-control': 'public, max-age=300' });
    } else {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, OPTIONS' });
    }
  };
}
