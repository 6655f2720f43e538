/** Anything else: 404, naming the MCP endpoint (the URL people most often get wrong). */
import { sendJson } from '../../web/nodeIo.js';
import type { Handler } from '../exchange.js';

export function notFoundRoute(serverUrl: string): Handler {
  return ({ res, url }) =>
    sendJson(res, 404, {
      error: 'not_found',
      error_description: `Nothing at ${url.pathname.slice(0, 200)}; the MCP endpoint is ${serverUrl}/mcp`,
    });
}
