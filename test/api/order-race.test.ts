import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopServices, shopFlows } from '../../flows/index.js';
import { createKeyedLock } from '../../src/api/keyed-lock.js';
import { merchantMethods } from '../../src/api/methods/index.js';
import type { MethodContext } from '../../src/api/method.js';
import { createWebChannel, newWebUserId } from '../../src/channels/web/index.js';
import { loadCatalogFile } from '../../src/commerce/catalog.js';
import { createEngine } from '../../src/core/engine.js';
import type { Engine } from '../../src/core/engine-types.js';
import { EngineError } from '../../src/core/errors.js';
import type { OrderId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { demoCatalogFile } from '../../src/server/config.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { offered, type Logged } from './harness.js';

/**
 * updateOrderStatus when another call moves the order past the asked status between the
 * method's check and the order's turn: the engine is real; only the timing is forced, by
 * letting a competing status event in just before the method's own.
 */
describe('updateOrderStatus overtaken by a concurrent call', () => {
  const store = createMemoryStore();
  const web = createWebChannel({ store, account: 'web' });
  const user = newWebUserId();
  let engine: Engine;

  beforeAll(async () => {
    engine = createEngine({ store, flows: shopFlows, services: createShopServices(await loadCatalogFile(demoCatalogFile())), channels: [web.channel] });
    await engine.start();
  });
  afterAll(() => engine.stop());

  async function log(): Promise<Logged[]> {
    await engine.idle();
    const rows = await engine.store.messagesTo(web.address(user), 0, 1_000);
    return rows.flatMap((row) => (row.effect.type === 'reply' ? [{ id: row.id, at: row.createdAt, message: row.effect.message as OutboundMessage }] : []));
  }

  async function send(body: { text: string } | { payload: string }): Promise<Logged[]> {
    const before = (await log()).length;
    await engine.ingest([web.toEvent({ user, ...body }, Date.now())]);
    return (await log()).slice(before);
  }

  const tap = async (replies: Logged[], prefix: string) => send({ payload: offered(replies).find((payload) => payload.startsWith(prefix))! });

  /** Places an order through the shop flow; answers its id and how many replies were logged. */
  async function placeOrder(): Promise<{ id: OrderId; told: number }> {
    let replies = await send({ text: 'hi' });
    for (const prefix of ['browse', 'cat:', 'add:', 'qty:', 'checkout', 'delivery:pickup']) replies = await tap(replies, prefix);
    await send({ text: 'Ana Lopez' });
    replies = await send({ text: '+34 600 111 222' });
    replies = await tap(replies, 'time:');
    await tap(replies, 'confirm');
    const orders = await engine.store.listOrders({ limit: 100 });
    return { id: orders.at(-1)!.id, told: (await log()).length };
  }

  /** The engine, with another call's status 70 for `id` let in once: before this call's event, or after it. */
  function racedBy(id: OrderId, when: 'before' | 'after'): MethodContext {
    let raced = false;
    const competing = () =>
      engine.ingest([{ type: 'order_status', id: `competing-call-${id}`, key: `order:${id}`, at: Date.now(), orderId: id, status: 70 }], { wait: true });
    const racing: Engine = {
      ...engine,
      async ingest(events, options) {
        if (raced) return engine.ingest(events, options);
        raced = true;
        if (when === 'before') await competing();
        const result = await engine.ingest(events, options);
        if (when === 'after') await competing();
        return result;
      },
    };
    return { engine: racing, clock: Date.now, requestId: `race-${id}`, caller: { name: 'token#1' }, logger: silentLogger, serial: createKeyedLock() };
  }

  it('fails 409 naming the reason, and changes nothing: only the other status is told', async () => {
    const { id, told } = await placeOrder();
    const failure = await merchantMethods['updateOrderStatus']!.call({ id, status: 60 }, racedBy(id, 'before')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EngineError);
    expect((failure as EngineError).code).toBe('CONFLICT');
    expect((failure as EngineError).message).toBe('status 70 (sent to the recipient) cannot go back to 60 (packed for dispatch): the order moved on meanwhile; nothing changed');
    expect((await engine.store.getOrder(id as OrderId))?.status).toBe(70);
    const news = (await log()).slice(told).map((entry) => entry.message);
    expect(news).toMatchObject([{ kind: 'shipping_update', status: 70 }]);
  });

  it('answers 200 when its status was applied and the other call moved the order on before the re-read', async () => {
    const { id, told } = await placeOrder();
    const answer = await merchantMethods['updateOrderStatus']!.call({ id, status: 60 }, racedBy(id, 'after'));
    expect(answer).toMatchObject({ id, status: 70, history: [{ status: 60, status_text: 'packed for dispatch' }, { status: 70 }] });
    const news = (await log()).slice(told).map((entry) => entry.message);
    expect(news).toMatchObject([
      { kind: 'shipping_update', status: 60 },
      { kind: 'shipping_update', status: 70 },
    ]);
  });
});
