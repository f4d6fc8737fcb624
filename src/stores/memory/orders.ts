import type { OrderId } from '../../core/ids.js';
import type { Commit, ListOrdersQuery, NewOrder, OrderRecord } from '../../core/store.js';
import type { MemoryCustomers } from './customers.js';
import { firstAbove } from './first-above.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Rows keep JSON as text, like SQLite, so that what a caller gets back is always a fresh copy.
type OrderRow = Omit<Mutable<OrderRecord>, 'customer' | 'data'> & { readonly data: string };

/**
 * The memory store's orders, each owned by one of its customers: ids allocated ahead of the
 * commit that creates the order, and listed in id order.
 * @example
 * const orders = new MemoryOrders(customers);
 * const [id] = orders.allocate(1);
 */
export class MemoryOrders {
  #last = 0;
  readonly #rows = new Map<number, OrderRow>();
  /** The ids of stored orders, ascending, for paging. */
  readonly #ids: number[] = [];

  constructor(private readonly customers: MemoryCustomers) {}

  has(id: OrderId): boolean {
    return this.#rows.has(id);
  }

  allocate(count: number): OrderId[] {
    if (count <= 0) return [];
    const start = Math.max(this.#last, this.#ids.at(-1) ?? 0) + 1;
    this.#last = start + count - 1;
    return Array.from({ length: count }, (_, i) => (start + i) as OrderId);
  }

  /** Stores a new order (`json`: its data, serialized), creating its customer if new. */
  create(order: NewOrder, json: string, at: number): void {
    const { id, total, currency } = order;
    const owner = this.customers.id(order.customer, at);
    const created = { status: 0, paid: false, createdAt: at, updatedAt: at, history: [] };
    this.#rows.set(id, { id, customerId: owner, total, currency, data: json, ...created });
    this.#ids.splice(firstAbove(this.#ids, id), 0, id);
  }

  update(update: Commit['updateOrders'][number], at: number): void {
    const row = this.#rows.get(update.id);
    if (!row) return;
    const { status = row.status, paid = row.paid } = update;
    if (status !== row.status || paid !== row.paid) row.history = [...row.history, { status, paid, at }];
    row.status = status;
    row.paid = paid;
    row.updatedAt = at;
  }

  get(id: OrderId): OrderRecord | null {
    const row = this.#rows.get(id);
    return row === undefined ? null : this.#toOrder(row);
  }

  list({ status, limit, after = 0 }: ListOrdersQuery): OrderRecord[] {
    const found: OrderRecord[] = [];
    for (let i = firstAbove(this.#ids, after); i < this.#ids.length && found.length < limit; i++) {
      const row = this.#rows.get(this.#ids[i]!)!;
      if (status === undefined || row.status === status) found.push(this.#toOrder(row));
    }
    return found;
  }

  #toOrder(row: OrderRow): OrderRecord {
    const address = this.customers.address(row.customerId);
    return {
      id: row.id,
      customer: { ...address },
      customerId: row.customerId,
      status: row.status,
      paid: row.paid,
      total: row.total,
      currency: row.currency,
      data: JSON.parse(row.data) as Record<string, unknown>,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      history: row.history.map((change) => ({ ...change })),
    };
  }
}
