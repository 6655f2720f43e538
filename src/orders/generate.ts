/**
 * Deterministic, realistic sample data: a cupcake shop's orders.
 *
 * Everything is derived from a small seeded PRNG (mulberry32), so the same `seed` and `count`
 * always produce byte-identical orders. Orders are produced lazily by a generator, so a million
 * of them can be streamed into a store without holding them in memory.
 */

import { foldText } from './text.js';
import type { Order, OrderItem, OrderStatus } from './types.js';

/** Number of orders seeded into an empty store by default. */
export const SAMPLE_ORDER_COUNT = 3000;

/** Seed used when none is given. */
export const DEFAULT_SEED = 20250101;

/** First order id number: the order at index `i` gets id `ord-${FIRST_ORDER_NUMBER + i}`. */
export const FIRST_ORDER_NUMBER = 100000;

/** First instant an order can be placed (inclusive, UTC). */
export const ORDERS_FROM = '2025-01-01T00:00:00.000Z';

/** Last day orders are placed (UTC); the shop's "today" for order statuses. */
export const ORDERS_UNTIL_DAY = '2026-11-20';

/** Fixed customers that own many orders (each ~2-4% of all orders). */
export const ALICE = { name: 'Alice Anderson', email: 'alice@example.com' } as const;
export const BOB = { name: 'Bob Brown', email: 'bob@example.com' } as const;

/** Staff member: never owns an order. */
export const CAROL_EMAIL = 'carol@example.com';

/** A random number source returning floats in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny, fast 32-bit seeded PRNG.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Flavour {
  readonly name: string;
  /** Unit price for fewer than a dozen, in cents. */
  readonly priceCents: number;
  /** Relative popularity. */
  readonly weight: number;
}

const FLAVOURS: readonly Flavour[] = [
  { name: 'Chocolate Fudge', priceCents: 375, weight: 14 },
  { name: 'Red Velvet', priceCents: 395, weight: 12 },
  { name: 'Vanilla Bean', priceCents: 350, weight: 12 },
  { name: 'Salted Caramel', priceCents: 395, weight: 9 },
  { name: 'Lemon Drizzle', priceCents: 365, weight: 7 },
  { name: 'Strawberry Shortcake', priceCents: 385, weight: 7 },
  { name: 'Cookies and Cream', priceCents: 385, weight: 7 },
  { name: 'Carrot Cake', priceCents: 375, weight: 6 },
  { name: 'Double Chocolate', priceCents: 395, weight: 6 },
  { name: 'Matcha', priceCents: 425, weight: 4 },
  { name: 'Pistachio', priceCents: 450, weight: 4 },
  { name: 'Gluten-Free Chocolate', priceCents: 450, weight: 4 },
  { name: 'Vegan Vanilla', priceCents: 425, weight: 4 },
  { name: 'Blueberry Cheesecake', priceCents: 425, weight: 4 },
  { name: 'Raspberry White Chocolate', priceCents: 425, weight: 4 },
  { name: 'Coconut Lime', priceCents: 395, weight: 3 },
  { name: 'Banana Toffee', priceCents: 375, weight: 3 },
  { name: 'Espresso Mocha', priceCents: 395, weight: 4 },
  { name: 'Peanut Butter Cup', priceCents: 395, weight: 3 },
  { name: 'Lavender Honey', priceCents: 425, weight: 2 },
  { name: 'Mint Chocolate Chip', priceCents: 385, weight: 3 },
  { name: 'Pumpkin Spice', priceCents: 385, weight: 2 },
  { name: 'Black Forest', priceCents: 410, weight: 2 },
  { name: 'Funfetti', priceCents: 350, weight: 5 },
  { name: 'Crème Brûlée', priceCents: 450, weight: 2 },
];

/** Every flavour name the generator can produce. */
export const FLAVOUR_NAMES: readonly string[] = FLAVOURS.map((f) => f.name);

const FIRST_NAMES: readonly string[] = (
  'Olivia Liam Emma Noah Ava Oliver Sophia Elijah Isabella James Mia William Amelia Benjamin ' +
  'Harper Lucas Evelyn Henry Abigail Theodore Emily Jack Ella Levi Scarlett Mateo Grace ' +
  'Daniel Chloé Samuel Priya Arjun Aisha Omar Yuki Hiro Mei Wei Zoë José Lucía Søren Ingrid ' +
  'Fatima Kwame Amara Niamh Siobhan Mateusz Renée'
).split(' ');

const LAST_NAMES: readonly string[] = (
  'Smith Johnson Williams Jones Garcia Miller Davis Rodriguez Martinez Hernández Lopez Wilson ' +
  'Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young King ' +
  'Wright Scott Nguyen Hill Patel Khan Okafor Tanaka Kim Chen Müller Dubois Rossi Kowalski ' +
  "O'Brien Murphy Andersen Larsen Silva Costa Novak Ivanova Cohen Mensah"
).split(' ');

const OTHER_DOMAINS = ['example.org', 'example.net', 'mail.example'];

const CHILD_NAMES = [
  'Mia',
  'Leo',
  'Ava',
  'Noah',
  'Isla',
  'Finn',
  'Zara',
  'Theo',
  'Ruby',
  'Max',
  'Lily',
  'Sam',
];

const GENERATED_CUSTOMER_COUNT = 150;

interface Customer {
  readonly name: string;
  readonly email: string;
  readonly weight: number;
}

/** Letters that do not decompose under NFD. */
/** ASCII-fold a name part for use in an e-mail local part: "Zoë" -> "zoe", "Søren" -> "soren", "O'Brien" -> "obrien". */
function emailPart(s: string): string {
  return foldText(s).replace(/[^a-z]/g, '');
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  const v = list[Math.floor(rng() * list.length)];
  if (v === undefined) throw new Error('pick from empty list');
  return v;
}

/** Builds a sampler that picks an index with probability proportional to its weight. */
function weightedSampler(weights: readonly number[]): (rng: Rng) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    cumulative.push(total);
  }
  return (rng) => {
    const x = rng() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** ~150 generated customers plus Alice and Bob; independent of `count` so customers are stable. */
function buildCustomers(seed: number): Customer[] {
  const rng = mulberry32(seed ^ 0x9e3779b9);
  const reserved = new Set<string>([ALICE.email, BOB.email, CAROL_EMAIL]);
  const customers: Customer[] = [
    // Alice and Bob: ~3% and ~2.5% of all orders (the rest share ~94.5%).
    { name: ALICE.name, email: ALICE.email, weight: 0 },
    { name: BOB.name, email: BOB.email, weight: 0 },
  ];
  const generated: Customer[] = [];
  while (generated.length < GENERATED_CUSTOMER_COUNT) {
    const first = pick(rng, FIRST_NAMES);
    const last = pick(rng, LAST_NAMES);
    const domain = rng() < 0.8 ? 'example.com' : pick(rng, OTHER_DOMAINS);
    const style = rng();
    const local =
      style < 0.6
        ? `${emailPart(first)}.${emailPart(last)}`
        : style < 0.85
          ? `${emailPart(first).charAt(0)}${emailPart(last)}`
          : `${emailPart(first)}${emailPart(last)}${10 + Math.floor(rng() * 89)}`;
    const email = `${local}@${domain}`;
    if (reserved.has(email)) continue;
    reserved.add(email);
    // Zipf-like: a few regulars, a long tail of occasional customers.
    generated.push({ name: `${first} ${last}`, email, weight: 1 / (1 + generated.length * 0.05) });
  }
  const tailTotal = generated.reduce((n, c) => n + c.weight, 0);
  const tailShare = 1 - 0.03 - 0.025;
  customers[0] = { ...ALICE, weight: (0.03 / tailShare) * tailTotal };
  customers[1] = { ...BOB, weight: (0.025 / tailShare) * tailTotal };
  return customers.concat(generated);
}

// --- time ---------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const FROM_MS = Date.parse(ORDERS_FROM);
const UNTIL_MS = Date.parse(`${ORDERS_UNTIL_DAY}T00:00:00.000Z`) + DAY_MS; // exclusive
const DAY_COUNT = Math.round((UNTIL_MS - FROM_MS) / DAY_MS);

/** Relative order volume per hour of day (UTC): the shop takes orders mostly 7:00-21:00. */
const HOUR_WEIGHTS = [
  0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4, 4, 4.5, 5, 4.5, 3.5, 2.5, 1.2, 0.5,
];

/** Relative order volume of a day: weekends, December and the run-up to Valentine's are busier. */
function dayWeight(dayIndex: number): number {
  const d = new Date(FROM_MS + dayIndex * DAY_MS);
  const dow = d.getUTCDay();
  const month = d.getUTCMonth();
  const date = d.getUTCDate();
  let w = dow === 0 ? 1.1 : dow === 5 || dow === 6 ? 1.5 : 1;
  if (month === 11) w *= 1.5;
  if (month === 1 && date >= 7 && date <= 14) w *= 1.8;
  if (month === 4 && date >= 5 && date <= 12) w *= 1.4; // Mother's Day week
  if (month === 9 && date >= 24) w *= 1.3; // Halloween
  return w * (1 + dayIndex / DAY_COUNT / 2); // the shop grows over time
}

/** Inverse CDF over [start, end): maps u in [0,1) monotonically to a point weighted by `weights`. */
function cumulative(weights: readonly number[]): number[] {
  const out = [0];
  let total = 0;
  for (const w of weights) {
    total += w;
    out.push(total);
  }
  return out.map((c) => c / total);
}

const DAY_CDF = cumulative(Array.from({ length: DAY_COUNT }, (_, i) => dayWeight(i)));
const HOUR_CDF = cumulative(HOUR_WEIGHTS);

/** Finds i with cdf[i] <= u < cdf[i+1] and returns i plus the fraction inside that bucket. */
function invert(cdf: readonly number[], u: number): number {
  let lo = 0;
  let hi = cdf.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((cdf[mid] ?? 1) <= u) lo = mid;
    else hi = mid - 1;
  }
  const a = cdf[lo] ?? 0;
  const b = cdf[lo + 1] ?? 1;
  return lo + (b > a ? Math.min(0.999999, (u - a) / (b - a)) : 0);
}

/** Order time for position u in [0,1): non-decreasing in u, so ids grow with time. */
function orderTimeMs(u: number): number {
  const day = invert(DAY_CDF, u);
  const dayIndex = Math.floor(day);
  const hour = invert(HOUR_CDF, day - dayIndex);
  const ms = FROM_MS + dayIndex * DAY_MS + hour * 3_600_000;
  return Math.floor(ms / 1000) * 1000;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

// --- items, status, notes ------------------------------------------------------------------------

const flavourIndex = weightedSampler(FLAVOURS.map((f) => f.weight));
const QUANTITIES = [1, 2, 4, 6, 12, 24];
const quantityIndex = weightedSampler([12, 14, 8, 28, 28, 10]);
const itemCountIndex = weightedSampler([45, 30, 17, 8]); // 1..4 items
/** Lead time in days, 0..14: same/next day is common, a week or two ahead for big events. */
const leadDaysIndex = weightedSampler([8, 18, 16, 12, 9, 7, 6, 8, 3, 2, 2, 2, 1, 1, 5]);

function makeItems(rng: Rng): OrderItem[] {
  const n = itemCountIndex(rng) + 1;
  const used = new Set<number>();
  const items: OrderItem[] = [];
  while (items.length < n) {
    const fi = flavourIndex(rng);
    if (used.has(fi)) continue;
    used.add(fi);
    const flavour = FLAVOURS[fi];
    if (flavour === undefined) continue;
    const quantity = QUANTITIES[quantityIndex(rng)] ?? 1;
    // 10% off per cupcake when buying by the dozen.
    const unitPriceCents =
      quantity >= 12 ? Math.round((flavour.priceCents * 0.9) / 5) * 5 : flavour.priceCents;
    items.push({ flavour: flavour.name, quantity, unitPriceCents });
  }
  return items;
}

const TODAY_MS = Date.parse(`${ORDERS_UNTIL_DAY}T00:00:00.000Z`);

/** A plausible status for an order due on `deliveryMs` as seen on the shop's "today". */
function makeStatus(rng: Rng, deliveryMs: number): OrderStatus {
  const daysAhead = Math.round((deliveryMs - TODAY_MS) / DAY_MS);
  const r = rng();
  if (daysAhead < 0) return r < 0.05 ? 'cancelled' : 'delivered';
  if (daysAhead === 0)
    return r < 0.03 ? 'cancelled' : r < 0.35 ? 'delivered' : r < 0.75 ? 'out_for_delivery' : 'ready';
  if (daysAhead === 1) return r < 0.03 ? 'cancelled' : r < 0.2 ? 'ready' : r < 0.7 ? 'baking' : 'pending';
  return r < 0.03 ? 'cancelled' : r < 0.1 ? 'baking' : 'pending';
}

const NOTE_TEMPLATES: readonly ((rng: Rng) => string)[] = [
  (r) => {
    const age = 2 + Math.floor(r() * 10);
    const suffix = age === 2 ? 'nd' : age === 3 ? 'rd' : 'th';
    return `Birthday party for ${pick(r, CHILD_NAMES)}, please write 'Happy ${age}${suffix}'`;
  },
  () => 'Nut allergy - no pistachio cross contamination',
  () => 'Leave at reception',
  () => 'Please ring the doorbell twice, the baby may be asleep',
  () => 'Office party, deliver before 10am to the 4th floor',
  (r) => `Wedding shower for ${pick(r, CHILD_NAMES)} - white and gold sprinkles please`,
  () => 'Gluten-free guests: please box the gluten-free ones separately',
  () => 'Vegan only, no honey or dairy',
  () => 'Call on arrival, buzzer is broken',
  () => 'Gift - please do not include the receipt',
  (r) => `Anniversary surprise, write '${1 + Math.floor(r() * 30)} years' on a card`,
  () => 'Extra frosting if possible',
  () => 'Less sugar in the frosting please',
  () => 'Pick up instead of delivery if the weather is bad',
  () => 'School bake sale, individually wrapped please',
  () => 'Baby shower - blue sprinkles',
  () => 'Baby shower - pink and purple sprinkles',
  () => 'Retirement party for our manager',
  () => 'Leave with the neighbour at number 12 if nobody is home',
  () => 'Team celebration, add candles',
];

/** Notes that only make sense in one month (0 = January), used for some orders in that month. */
const SEASONAL_NOTES: ReadonlyMap<number, readonly string[]> = new Map([
  [1, ["Valentine's surprise, heart toppers please", "Red and pink sprinkles for Valentine's Day"]],
  [4, ["Mother's Day gift, please add a card saying 'Love you Mum'"]],
  [9, ['Halloween party - spooky decorations welcome', 'Orange and black frosting for Halloween']],
  [11, ['Christmas party, festive toppers please', 'Office holiday party, deliver before noon']],
]);

function makeNotes(rng: Rng, month: number): string {
  if (rng() < 0.55) return '';
  const seasonal = SEASONAL_NOTES.get(month);
  if (seasonal !== undefined && rng() < 0.35) return pick(rng, seasonal);
  return pick(rng, NOTE_TEMPLATES)(rng);
}

// --- public API ----------------------------------------------------------------------------------

/** Options for {@link generateOrders}. */
export interface GenerateOptions {
  /** How many orders to produce (a non-negative integer). */
  count: number;
  /** PRNG seed (any integer; used modulo 2^32). Defaults to {@link DEFAULT_SEED}. */
  seed?: number;
}

/**
 * Lazily generates `count` realistic cupcake orders, deterministically for a given seed and count.
 * Order `i` has id `ord-${100000 + i}`; `orderedAt` is non-decreasing in `i` and spans
 * 2025-01-01 .. 2026-11-20 (UTC). Memory use is constant, so it can stream millions of orders.
 *
 * @example
 * ```ts
 * for (const order of generateOrders({ count: 5, seed: 42 })) console.log(order.id, order.totalCents);
 * ```
 */
export function* generateOrders(opts: GenerateOptions): Generator<Order> {
  const { count } = opts;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${String(count)}`);
  }
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${String(seed)}`);
  const seed32 = Math.trunc(seed) >>> 0;
  const customers = buildCustomers(seed32);
  const customerIndex = weightedSampler(customers.map((c) => c.weight));
  const rng = mulberry32(seed32);

  for (let i = 0; i < count; i++) {
    const orderedMs = orderTimeMs((i + rng()) / count);
    const customer = customers[customerIndex(rng)] ?? customers[0];
    if (customer === undefined) throw new Error('no customers');
    const items = makeItems(rng);
    const deliveryMs = Math.floor(orderedMs / DAY_MS) * DAY_MS + leadDaysIndex(rng) * DAY_MS;
    yield {
      id: `ord-${FIRST_ORDER_NUMBER + i}`,
      customerName: customer.name,
      customerEmail: customer.email,
      items,
      totalCents: items.reduce((n, it) => n + it.quantity * it.unitPriceCents, 0),
      currency: 'USD',
      status: makeStatus(rng, deliveryMs),
      orderedAt: new Date(orderedMs).toISOString(),
      deliveryDate: isoDate(deliveryMs),
      notes: makeNotes(rng, new Date(orderedMs).getUTCMonth()),
    };
  }
}
