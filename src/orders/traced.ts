/**
 * An {@link OrderStore} whose queries are spans (database client semantic conventions): name
 * `{db.operation.name} {db.collection.name}` (`search orders`, `get orders`), kind CLIENT,
 * `db.system.name`, `db.operation.name`, `db.collection.name`, `db.response.returned_rows`. The
 * query text, the search words and the order id are never recorded. A decorator from the outside,
 * so the stores themselves know nothing of tracing.
 *
 * @example
 * ```ts
 * const store = tracedStore(asyncStore(SqliteOrderStore.open('data/orders.sqlite')), 'sqlite');
 * await store.search('chocolate', { kind: 'all' }, 10); // a `search orders` span when tracing
 * ```
 */
import { inSpan, SpanKind } from '../observability/tracing.js';
import type { OrderStore } from './types.js';

export function tracedStore(store: OrderStore, system: 'sqlite' | 'postgresql'): OrderStore {
  const query = <T>(operation: string, run: () => Promise<T>, rows: (result: T) => number) =>
    inSpan(
      `${operation} orders`,
      {
        kind: SpanKind.CLIENT,
        leaf: true,
        attributes: {
          'db.system.name': system,
          'db.operation.name': operation,
          'db.collection.name': 'orders',
        },
      },
      async (span) => {
        const result = await run();
        span.setAttribute('db.response.returned_rows', rows(result));
        return result;
      },
    );
  return {
    search: (q, viewer, limit) =>
      query(
        'search',
        () => store.search(q, viewer, limit),
        (hits) => hits.length,
      ),
    get: (id, viewer) =>
      query(
        'get',
        () => store.get(id, viewer),
        (order) => (order ? 1 : 0),
      ),
    count: () => store.count(),
    isReady: () => store.isReady(),
    close: () => store.close(),
  };
}
