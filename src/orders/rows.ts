/**
 * What both stores do with rows: turn the stored columns back into an {@link Order}, and cut a
 * stream of orders into insert batches.
 */
import type { Order, OrderItem, OrderStatus } from './types.js';

/** The columns both stores keep for an order, as a SELECT returns them (items apart). */
export interface OrderColumns {
  id: string;
  customer_name: string;
  customer_email: string;
  total_cents: number;
  currency: string;
  status: string;
  ordered_at: string;
  delivery_date: string;
  notes: string;
}

export function orderFromColumns(row: OrderColumns, items: OrderItem[]): Order {
  return {
    id: row.id,
    customerName: row.customer_name,
    customerEmail: row.customer_email,
    items,
    totalCents: row.total_cents,
    currency: row.currency as Order['currency'],
    status: row.status as OrderStatus,
    orderedAt: row.ordered_at,
    deliveryDate: row.delivery_date,
    notes: row.notes,
  };
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
}

/** `items` in arrays of `batchSize` (the last one shorter), read as they are needed. */
export function* batches<T>(items: Iterable<T>, batchSize: number): Generator<T[]> {
  checkBatchSize(batchSize);
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** {@link batches} for async iterables too. */
export async function* batchesAsync<T>(
  items: Iterable<T> | AsyncIterable<T>,
  batchSize: number,
): AsyncGenerator<T[]> {
  checkBatchSize(batchSize);
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
