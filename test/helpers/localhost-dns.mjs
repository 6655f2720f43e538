// Preload for Node processes a test starts (`NODE_OPTIONS=--import <this file's URL>`): every name
// under `localhost` (`mcp.localhost`, `auth.localhost`) resolves to 127.0.0.1 in that process, as
// RFC 6761 §6.3 asks and as curl and Chromium already do, so the tests need no /etc/hosts entry;
// so do the names in `SAMPLE_MCP_TEST_HOSTS` (comma-separated: the hosts a test serves itself).
// Node's http, https, net, tls and fetch all resolve through `dns.lookup`; other names are untouched.
import dns from 'node:dns';

const systemLookup = dns.lookup;
const LOCALHOST = /(^|\.)localhost\.?$/i;
const TEST_HOSTS = new Set(
  (process.env.SAMPLE_MCP_TEST_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean),
);

dns.lookup = function lookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts =
    typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
  if (typeof hostname !== 'string' || !(LOCALHOST.test(hostname) || TEST_HOSTS.has(hostname.toLowerCase()))) {
    return systemLookup.call(this, hostname, options, callback);
  }
  const [address, family] = opts?.family === 6 ? ['::1', 6] : ['127.0.0.1', 4];
  if (opts?.all) process.nextTick(cb, null, [{ address, family }]);
  else process.nextTick(cb, null, address, family);
  return {};
};
