import { generateOrders } from './src/orders/generate.ts';
import { SqliteOrderStore } from './src/orders/sqlite.ts';
const path = process.argv[2]!;
let t = performance.now(); let n = 0; for (const _ of generateOrders({ count: 1_000_000 })) n++;
console.log(`generate only 1M: ${((performance.now() - t) / 1000).toFixed(2)}s`);
t = performance.now();
const store = SqliteOrderStore.open(path, { readonly: true });
console.log(`open: ${(performance.now() - t).toFixed(1)}ms, count=${store.count()}`);
const viewers = { all: { kind: 'all' }, alice: { kind: 'customer', email: 'alice@example.com' } } as const;
const queries = ['chocolate', 'birthday party', 'red velvet', 'crème brûlée', 'nut allergy pistachio', 'ord-100042', 'a', '', 'zzzzqx'];
for (const [vname, viewer] of Object.entries(viewers)) for (const q of queries) {
  const times: number[] = []; let hits = 0;
  for (let i = 0; i < 25; i++) { const s = performance.now(); hits = store.search(q, viewer, 10).length; times.push(performance.now() - s); }
  times.sort((a, b) => a - b);
  console.log(`${vname.padEnd(5)} ${JSON.stringify(q).padEnd(24)} hits=${hits} first=${times[0]!.toFixed(1)} p50=${times[12]!.toFixed(1)}ms p95=${times[23]!.toFixed(1)}ms`);
}
t = performance.now(); for (let i = 0; i < 1000; i++) store.get(`ord-${100000 + i * 997}`, viewers.alice); console.log(`get x1000: ${(performance.now() - t).toFixed(1)}ms`);
store.close();
