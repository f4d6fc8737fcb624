import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createShopServices, shopFlows } from '../../flows/index.js';
import { loadCatalogFile } from '../../src/commerce/index.js';
import type { Channel } from '../../src/core/channel.js';
import { createEngine } from '../../src/core/engine.js';
import type { Engine } from '../../src/core/engine-types.js';
import { orderKey, type ActorKey, type Address, type OrderId } from '../../src/core/ids.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { taskStatus, type Store } from '../../src/core/store.js';
import { demoCatalogFile } from '../../src/server/config.js';
import { openPostgresStore } from '../../src/stores/postgres.js';
import { databaseUrl, dropSchema, freshSchema, until } from './harness.js';

/**
 * Two engines in this process, each on its own PostgreSQL store (its own pool and LISTEN
 * connection) over one schema: two instances, as far as the database can tell.
 */

const customer: Address = { channel: 'test', account: 'shop', user: 'ana' };
const schemas: string[] = [];
const open: { engine: Engine; store: Store }[] = [];

interface Sent {
  readonly by: string;
  readonly to: string;
  readonly message: OutboundMessage;
}

function recorder(sent: Sent[], by: string): Channel {
  return {
    name: 'test',
    async send(to, message) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      sent.push({ by, to: to.user, message });
      return {};
    },
  };
}

async function twoInstances(
  sent: Sent[],
  setup?: (store: Store) => Promise<void>,
  wrap: (store: Store, i: number) => Store = (store) => store,
): Promise<[Engine, Engine]> {
  const schema = freshSchema();
  schemas.push(schema);
  const services = createShopServices(await loadCatalogFile(demoCatalogFile()));
  const stores = [await openPostgresStore(databaseUrl!, { schema, poolSize: 4 }), await openPostgresStore(databaseUrl!, { schema, poolSize: 4 })];
  await setup?.(stores[0]!);
  const engines = stores.map((store, i) => {
    const engine = createEngine({ store: wrap(store, i), flows: shopFlows, services, channels: [recorder(sent, `i${i}`)], instanceId: `i${i}`, leaseMs: 3_000, pollMs: 500 });
    open.push({ engine, store });
    return engine;
  });
  await Promise.all(engines.map((engine) => engine.start()));
  return [engines[0]!, engines[1]!];
}

afterEach(async () => {
  for (const { engine, store } of open.splice(0)) {
    await engine.stop({ timeoutMs: 2_000 });
    await store.close();
  }
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

const orderData = {
  items: [{ id: 'eth-yirg-250', article: 'CB-ETH-250', title: 'Ethiopia Yirgacheffe, 250 g', count: 1, price: 1_250, discount: 0, total: 1_250 }],
  delivery: 'pickup',
  address: '',
  recipient: 'Ana Lopez',
  mobile: '+34600111222',
  time: 'asap',
  cost_cart: 1_250,
  cost_discount: 0,
  cost_delivery: 0,
  cost_total: 1_250,
  currency: 'EUR',
};

/** An order as checkout leaves it: its row, and the `order_created` event its actor starts with. */
async function placeOrder(store: Store): Promise<OrderId> {
  const [id] = await store.allocateOrderIds(1);
  const [placed] = await store.append([{ type: 'command', id: 'setup', key: 'setup:1' as ActorKey, at: 1, command: 'setup' }]);
  await store.commit([
    {
      key: placed!.event.key,
      seq: placed!.seq,
      expectedRev: 0,
      envelope: { flowId: 'setup', flowVersion: 1, snapshot: null },
      outbox: [],
      inbox: [
        {
          type: 'order_created',
          id: `order-${id}`,
          key: orderKey(id!),
          at: Date.now(),
          address: customer,
          orderId: id!,
          order: { ...orderData, id, customer, total: 1_250, currency: 'EUR' },
        },
      ],
      createOrders: [{ id: id!, customer, total: 1_250, currency: 'EUR', data: orderData }],
      updateOrders: [],
      tasks: [],
      customer,
      at: Date.now(),
    },
  ]);
  return id!;
}

describe.skipIf(!databaseUrl)('postgres cluster: engines in one process', () => {
  it('serializes two status changes of one order made on two instances, as one instance would', { timeout: 60_000 }, async () => {
    const sent: Sent[] = [];
    let id = 0 as OrderId;
    // Instance a stores slowly (as on a loaded machine): two calls made at once could then be
    // stored in either order, and 60 stored after 70 is refused (a status is never lowered).
    const slowAppend = (store: Store, i: number): Store =>
      i === 0 ? { ...store, append: async (events) => (await new Promise((resolve) => setTimeout(resolve, 100)), store.append(events)) } : store;
    const [a, b] = await twoInstances(
      sent,
      async (store) => {
        id = await placeOrder(store);
      },
      slowAppend,
    );
    await until(() => sent.some((s) => s.message.kind === 'receipt'), 15_000, 'the receipt');
    const status = (value: number) => ({ type: 'order_status' as const, id: `status-${value}`, key: orderKey(id), at: Date.now(), orderId: id, status: value });
    // Stored one after the other (the merchant's calls: the second once the first is answered,
    // that is stored), processed wherever the lease allows: 70 is done only after 60.
    expect(await a.ingest([status(60)])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await b.ingest([status(70)], { wait: true })).toEqual({ accepted: 1, duplicates: 0, failed: 0 });
    expect(await a.store.getOrder(id)).toMatchObject({ status: 70 });
    expect(await b.store.load(orderKey(id))).toMatchObject({ rev: 3 });
    await until(() => sent.filter((s) => s.message.kind === 'shipping_update').length >= 2, 15_000, 'both notifications');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const updates = sent.flatMap((s) => (s.message.kind === 'shipping_update' ? [s.message.status] : []));
    expect(updates).toEqual([60, 70]);
  });

  it('runs a task added on one instance once, on whichever instance fires it first', { timeout: 60_000 }, async () => {
    const sent: Sent[] = [];
    const [a, b] = await twoInstances(sent);
    const task = await a.store.addTask({ customer, command: 'menu', dueAt: Date.now() + 300 });
    // Only the store was told (as the merchant API's addTask does): the other instance hears of it by NOTIFY.
    await until(async () => (await b.store.getTask(task.id))?.status === taskStatus.done, 15_000, 'the task');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sent.filter((s) => s.to === customer.user)).toHaveLength(1);
    expect(await a.store.getTask(task.id)).toMatchObject({ status: taskStatus.done, firedAt: expect.any(Number) });
    expect(await a.store.pending(0, 10)).toEqual([]);
  });
});
