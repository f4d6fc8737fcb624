import type { Address } from '../../core/ids.js';
import type { CustomerRecord } from '../../core/store.js';

/**
 * The memory store's customers: one per address, created on a customer's first event,
 * found by the full address or by channel and user alone (then the first one created).
 * @example
 * const customers = new MemoryCustomers();
 * const id = customers.id({ channel: 'web', account: 'shop', user: 'u1' }, Date.now());
 */
export class MemoryCustomers {
  #last = 0;
  readonly #rows = new Map<number, CustomerRecord>();
  readonly #byAddress = new Map<string, number>();
  readonly #firstByUser = new Map<string, number>();

  /** The customer's id, created at `at` when the address is new. */
  id(address: Address, at: number): number {
    const key = `${address.channel}\u0000${address.user}\u0000${address.account}`;
    const found = this.#byAddress.get(key);
    if (found !== undefined) return found;
    const id = ++this.#last;
    this.#rows.set(id, { id, address: { ...address }, createdAt: at });
    this.#byAddress.set(key, id);
    const userKey = `${address.channel}\u0000${address.user}`;
    if (!this.#firstByUser.has(userKey)) this.#firstByUser.set(userKey, id);
    return id;
  }

  /** The customer wrote at `at`: their last inbound time is kept at the latest. */
  seen(id: number, at: number): void {
    const customer = this.#rows.get(id)!;
    if (at > (customer.lastInboundAt ?? 0)) this.#rows.set(id, { ...customer, lastInboundAt: at });
  }

  /** The stored address of a customer that exists (not a copy). */
  address(id: number): Address {
    return this.#rows.get(id)!.address;
  }

  find({ channel, account, user }: Omit<Address, 'account'> & { account?: string }): CustomerRecord | null {
    const id =
      account === undefined
        ? this.#firstByUser.get(`${channel}\u0000${user}`)
        : this.#byAddress.get(`${channel}\u0000${user}\u0000${account}`);
    return id === undefined ? null : this.get(id);
  }

  get(id: number): CustomerRecord | null {
    const customer = this.#rows.get(id);
    return customer === undefined ? null : copyCustomer(customer);
  }
}

function copyCustomer(customer: CustomerRecord): CustomerRecord {
  return {
    id: customer.id,
    address: { ...customer.address },
    createdAt: customer.createdAt,
    ...(customer.lastInboundAt === undefined ? {} : { lastInboundAt: customer.lastInboundAt }),
  };
}
