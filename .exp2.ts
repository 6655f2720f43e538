import Database from 'better-sqlite3';
import { ownerToken } from './src/orders/sqlite.ts';
const db = new Database(process.argv[2]!, { readonly: true });
db.pragma('mmap_size = 268435456');
const U = '{title customer_name customer_email flavours notes status}';
const variants: Record<string, string> = {
  full: `SELECT o.id, o.title FROM (SELECT rowid, rank FROM orders_fts WHERE orders_fts MATCH ? ORDER BY rank LIMIT 10) f JOIN orders o ON o.rowid=f.rowid ORDER BY f.rank`,
  win2000: `SELECT o.id, o.title FROM (SELECT rowid, rank FROM (SELECT rowid, rank FROM orders_fts WHERE orders_fts MATCH ? ORDER BY rowid DESC LIMIT 2000) ORDER BY rank LIMIT 10) f JOIN orders o ON o.rowid=f.rowid ORDER BY f.rank`,
  win500: `SELECT o.id, o.title FROM (SELECT rowid, rank FROM (SELECT rowid, rank FROM orders_fts WHERE orders_fts MATCH ? ORDER BY rowid DESC LIMIT 500) ORDER BY rank LIMIT 10) f JOIN orders o ON o.rowid=f.rowid ORDER BY f.rank`,
  newest: `SELECT rowid FROM orders_fts WHERE orders_fts MATCH ? ORDER BY rowid DESC LIMIT 10`,
};
const exact = (q: string) => q.toLowerCase().match(/[\p{L}\p{N}]+/gu)!.map((t) => `"${t}"`).join(' OR ');
const lastPrefix = (q: string) => { const t = q.toLowerCase().match(/[\p{L}\p{N}]+/gu)!; return t.map((x, i) => i === t.length - 1 && x.length >= 2 ? `"${x}"*` : `"${x}"`).join(' OR '); };
for (const q of ['chocolate', 'red velvet', 'birthday party', 'ord-100042', 'a']) for (const [fname, f] of [['exact', exact], ['lastPfx', lastPrefix]] as const) {
  const m = `${U} : (${f(q)})`;
  const mAlice = `owner : "${ownerToken('alice@example.com')}" AND (${m})`;
  for (const [name, sql] of Object.entries(variants)) for (const [who, mm] of [['all', m], ['alice', mAlice]] as const) {
    const st = db.prepare(sql); const ts: number[] = [];
    for (let i = 0; i < 7; i++) { const s = performance.now(); st.all(mm); ts.push(performance.now() - s); }
    ts.sort((a, b) => a - b);
    console.log(`${q.padEnd(15)} ${fname} ${who.padEnd(5)} ${name.padEnd(8)} median=${ts[3]!.toFixed(1)}ms`);
  }
}
