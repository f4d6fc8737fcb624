import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyThroughWeb, call, data, ofKind, startShop, tokens, WebCustomer, type Shop } from './harness.js';

/** The order methods against the real server, with customers who bought through the web chat. */

interface Order {
  id: number;
  user_id: number;
  user_chat_id: string;
  channel: string;
  status: number;
  status_text: string;
  paid: boolean;
  currency: string;
  cost_total: number;
  goods: { id: string; count: number; total: number }[];
  created_at: number;
  updated_at: number;
  history: { status: number; status_text: string; paid: boolean; at: number }[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the order methods', () => {
  let shop: Shop;
  let ana: WebCustomer;
  let anaOrder: number;

  beforeAll(async () => {
    shop = await startShop();
    ana = await WebCustomer.open(shop.url);
    anaOrder = await buyThroughWeb(ana);
  });
  afterAll(() => shop?.close());

  /** A fresh customer with a fresh order, their messages read so far. */
  async function freshOrder(): Promise<{ customer: WebCustomer; id: number }> {
    const customer = await WebCustomer.open(shop.url);
    return { customer, id: await buyThroughWeb(customer) };
  }

  it('answers getOrder with the order: status, sums in minor units, goods, the customer', async () => {
    const order = await data<Order>(shop.url, 'getOrder', { id: anaOrder });
    const customer = await data<{ user_id: number; channel: string; external_id: string; created_at: number }>(shop.url, 'findCustomer', {
      channel: 'web',
      external_id: ana.user,
    });
    expect(order).toMatchObject({ id: anaOrder, status: 0, status_text: 'created', paid: false, channel: 'web', user_chat_id: ana.user, currency: 'EUR' });
    expect(order.user_id).toBe(customer.user_id);
    expect(Object.keys(order)).toEqual([
      'id', 'user_id', 'user_chat_id', 'channel', 'status', 'status_text', 'paid', 'currency', 'cost_total', 'cost_cart', 'cost_discount',
      'cost_delivery', 'delivery', 'time', 'recipient', 'address', 'mobile', 'goods', 'created_at', 'updated_at',
      'history',
    ]);
    expect(order.history).toEqual([]);
    expect(Number.isInteger(order.cost_total)).toBe(true);
    expect(order.goods.length).toBeGreaterThan(0);
    expect(Math.abs(order.created_at - Date.now() / 1_000)).toBeLessThan(120);
    expect(customer).toMatchObject({ channel: 'web', external_id: ana.user });
  });

  it('answers 404 for an unknown order or customer, and 400 naming a wrong or unknown field', async () => {
    expect(await call(shop.url, 'getOrder', { id: 999_999 })).toMatchObject({ status: 404, body: { status: 'fail', message: 'order 999999 not found' } });
    expect((await call(shop.url, 'findCustomer', { channel: 'web', external_id: 'nobody-at-all' })).status).toBe(404);
    expect((await call(shop.url, 'getOrder', { id: '1' })).body).toEqual({ status: 'fail', message: 'id: must be a positive integer' });
    expect((await call(shop.url, 'getOrder', { id: 1, verbose: true })).body).toEqual({ status: 'fail', message: 'verbose: unknown field' });
    expect((await call(shop.url, 'updateOrderStatus', { id: anaOrder, status: 15 })).body).toEqual({
      status: 'fail',
      message: 'status: must be one of 0, 10, 20, 30, 40, 50, 60, 70, 80, 90',
    });
    expect((await call(shop.url, 'listOrders', { limit: 500 })).body).toEqual({ status: 'fail', message: 'limit: must be an integer from 1 to 100' });
  });

  it('pages listOrders by id, and filters by status', async () => {
    const second = await freshOrder();
    const first = await data<{ orders: Order[]; next: number | null }>(shop.url, 'listOrders', { limit: 1 });
    expect(first.orders.map((order) => order.id)).toEqual([anaOrder]);
    expect(first.next).toBe(anaOrder);
    const rest = await data<{ orders: Order[]; next: number | null }>(shop.url, 'listOrders', { after: first.next, limit: 100 });
    expect(rest.orders.map((order) => order.id)).toContain(second.id);
    expect(rest.next).toBeNull();
    await data(shop.url, 'updateOrderStatus', { id: second.id, status: 10 });
    const awaiting = await data<{ orders: Order[] }>(shop.url, 'listOrders', { status: 10 });
    expect(awaiting.orders.map((order) => order.id)).toEqual([second.id]);
  });

  it('sends the customer a shipping update at 70, refuses to go back to 20 and sends nothing, and accepts 70 again silently', async () => {
    const { customer, id } = await freshOrder();
    const sent = await data<Order>(shop.url, 'updateOrderStatus', { id, status: 70 });
    expect(sent).toMatchObject({ id, status: 70, status_text: 'sent to the recipient' });
    const news = ofKind(await customer.next(), 'shipping_update');
    expect(news).toMatchObject([{ orderId: id, status: 70 }]);

    const back = await call(shop.url, 'updateOrderStatus', { id, status: 20 });
    expect(back.status).toBe(409);
    expect(back.body).toEqual({ status: 'fail', message: 'status 70 (sent to the recipient) cannot go back to 20 (confirmed)' });
    expect((await data<Order>(shop.url, 'getOrder', { id })).status).toBe(70);

    const again = await call(shop.url, 'updateOrderStatus', { id, status: 70 });
    expect(again.status).toBe(200);
    await pause(600);
    expect(await customer.next(0)).toEqual([]);
    const { history, updated_at } = await data<Order>(shop.url, 'getOrder', { id });
    expect(history).toEqual([{ status: 70, status_text: 'sent to the recipient', paid: false, at: updated_at }]);
  });

  it('refuses 20 after 30 (cancelled)', async () => {
    const { customer, id } = await freshOrder();
    await data(shop.url, 'updateOrderStatus', { id, status: 30 });
    expect(ofKind(await customer.next(), 'shipping_update')).toMatchObject([{ status: 30 }]);
    const back = await call(shop.url, 'updateOrderStatus', { id, status: 20 });
    expect(back).toMatchObject({ status: 409, body: { message: 'status 30 (cancelled) cannot go back to 20 (confirmed)' } });
    await pause(500);
    expect(await customer.next(0)).toEqual([]);
  });

  it('serializes two concurrent calls for one order: it ends at 70, each accepted status told once, in order', async () => {
    const { customer, id } = await freshOrder();
    const [packed, sent] = await Promise.all([call(shop.url, 'updateOrderStatus', { id, status: 60 }), call(shop.url, 'updateOrderStatus', { id, status: 70 })]);
    expect(sent.status).toBe(200);
    expect((await data<Order>(shop.url, 'getOrder', { id })).status).toBe(70);
    // They take turns in arrival order: 60 arriving second is refused with nothing changed
    // (then only 70 is news); 60 arriving first is applied and answered as it was.
    expect([200, 409]).toContain(packed.status);
    if (packed.body.status === 'success') expect(packed.body.data['status']).toBe(60);
    const told = packed.status === 200 ? [60, 70] : [70];
    const news = ofKind(await customer.next(told.length), 'shipping_update');
    expect(news.map((message) => message.status)).toEqual(told);
  });

  it('marks an order paid once: one payment confirmation, and paying again changes nothing', async () => {
    const { customer, id } = await freshOrder();
    const paid = await data<Order>(shop.url, 'paidOrder', { id });
    expect(paid).toMatchObject({ id, paid: true, status: 0, history: [{ status: 0, status_text: 'created', paid: true }] });
    const confirmation = await customer.next();
    expect(confirmation).toHaveLength(1);
    expect(ofKind(confirmation, 'text')[0]?.text).toContain(`#${id}`);
    expect((await call(shop.url, 'paidOrder', { id })).status).toBe(200);
    await pause(500);
    expect(await customer.next(0)).toEqual([]);
    expect((await call(shop.url, 'paidOrder', { id: 424_242 })).status).toBe(404);
  });

  it('changes nothing for a call without a valid token: 401', async () => {
    const { customer, id } = await freshOrder();
    for (const token of [null, 'not-a-token', `${tokens[0]}x`]) {
      const refused = await call(shop.url, 'updateOrderStatus', { id, status: 70 }, { token });
      expect(refused.status).toBe(401);
      expect(refused.body.status).toBe('fail');
    }
    await pause(500);
    expect((await data<Order>(shop.url, 'getOrder', { id })).status).toBe(0);
    expect(await customer.next(0)).toEqual([]);
  });

  it('changes nothing for malformed JSON: 400 with a message', async () => {
    const { customer, id } = await freshOrder();
    const refused = await call(shop.url, 'updateOrderStatus', undefined, { raw: `{"id": ${id}, "status": 70` });
    expect(refused).toMatchObject({ status: 400, body: { status: 'fail', message: 'malformed JSON in the request body' } });
    await pause(500);
    expect((await data<Order>(shop.url, 'getOrder', { id })).status).toBe(0);
    expect(await customer.next(0)).toEqual([]);
  });
});
