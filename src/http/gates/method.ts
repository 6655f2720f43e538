/**
 * The route's methods: a CORS preflight (`OPTIONS`) is answered 204 with them; any other method
 * not among them is 405 with `Allow`.
 */
import { sendRpcError } from '../../web/nodeIo.js';
import type { Gate } from '../exchange.js';
import { CORS_ALLOW_HEADERS } from './origin.js';

export function preflightGate(methods: readonly string[]): Gate {
  const allow = [...methods, 'OPTIONS'].join(', ');
  return ({ req, res }) => {
    if (req.method !== 'OPTIONS') return true;
    res.writeHead(204, {
      'access-control-allow-methods': allow,
      'access-control-allow-headers': CORS_ALLOW_HEADERS,
      'access-control-max-age': '600',
    });
    res.end();
    return false;
  };
}

export function methodGate(methods: readonly string[]): Gate {
  const allow = methods.join(', ');
  return ({ req, res }) => {
    if (methods.includes(req.method ?? 'GET')) return true;
    sendRpcError(res, 405, -32000, 'Method not allowed', { allow });
    return false;
  };
}
