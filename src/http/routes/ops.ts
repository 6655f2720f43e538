/**
 * Operations: `/healthz` (alive), `/readyz` (can it serve: keys, store, shared state) and
 * `/metrics` (Prometheus). {@link readiness} is also what the landing page shows.
 */
import type { KeyStore, KeyStoreStatus } from '../../auth/jwks/keyStore.js';
import type { SharedState } from '../../cluster/sharedState.js';
import type { Metrics } from '../../observability/metrics.js';
import type { OrderStore } from '../../orders/types.js';
import { sendJson } from '../../web/nodeIo.js';
import type { Handler } from '../exchange.js';

export interface ReadinessDeps {
  keys: Pick<KeyStore, 'status' | 'refresh'>;
  store: Pick<OrderStore, 'isReady'>;
  shared: Pick<SharedState, 'check'>;
}

export interface Readiness {
  status: 'ready' | 'degraded' | 'unavailable';
  checks: {
    jwks: {
      state: KeyStoreStatus['state'];
      url: string | undefined;
      keys: number;
      fetchedAt: string | undefined;
      error: string | undefined;
    };
    store: { state: 'ready' | 'unavailable' };
    shared: Awaited<ReturnType<SharedState['check']>>;
  };
}

/** Keys (fetched once more if none are held), store and shared state, as `/readyz` reports them. */
export async function readiness(deps: ReadinessDeps): Promise<Readiness> {
  let jwks = deps.keys.status();
  if (jwks.state === 'unavailable') {
    await deps.keys.refresh().catch(() => {});
    jwks = deps.keys.status();
  }
  const storeReady = await deps.store.isReady().catch(() => false);
  const shared = await deps.shared.check();
  // Without Redis, stateless and 2026 requests are still served (sessions answer 503): degraded,
  // not unready, so a probe does not take every replica out at once.
  const ok = storeReady && jwks.state !== 'unavailable';
  const degraded = jwks.state === 'degraded' || shared.state === 'unavailable';
  return {
    status: !ok ? 'unavailable' : degraded ? 'degraded' : 'ready',
    checks: {
      jwks: {
        state: jwks.state,
        url: jwks.jwksUrl,
        keys: jwks.keyIds.length,
        fetchedAt: jwks.fetchedAt,
        error: jwks.lastError,
      },
      store: { state: storeReady ? 'ready' : 'unavailable' },
      shared,
    },
  };
}

export const healthzRoute: Handler = ({ res }) => sendJson(res, 200, { status: 'ok' });

export function readyzRoute(deps: ReadinessDeps): Handler {
  return async ({ res }) => {
    const r = await readiness(deps);
    sendJson(res, r.status === 'unavailable' ? 503 : 200, r);
  };
}

export function metricsRoute(metrics: Pick<Metrics, 'registry'>): Handler {
  return async ({ res }) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
  };
}
