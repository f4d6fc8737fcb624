import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogFile } from '../../src/commerce/catalog.js';
import type { EffectOf } from '../../src/core/effects.js';
import { DeliveryError } from '../../src/core/errors.js';
import type { OutboxItem } from '../../src/core/store.js';
import { demoCatalogFile } from '../../src/server/config.js';
import { toBracketedQuery, rfc3986 } from '../../src/jobs/bracketed-query.js';
import { createCrmNotifier, type CrmNotifier } from '../../src/jobs/crm-notifier.js';
import { startFakeCrm, type CrmRequest, type FakeCrm } from '../fakes/crm.js';
import { buyThroughWeb, call, data, startShop, WebCustomer, type Shop } from '../api/harness.js';

const secret = 'crm-shared-secret';
const contractFields = ['id', 'user_id', 'user_chat_id', 'channel', 'cost_total', 'cost_cart', 'cost_discount', 'cost_delivery', 'delivery', 'time', 'recipient', 'address', 'mobile', 'goods'];
const goodsFields = ['id', 'article', 'title', 'count', 'price', 'discount', 'total'];

const hmac = (text: string) => `sha256=${createHmac('sha256', secret).update(text, 'utf8').digest('hex')}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Notified {
  id: number;
  user_id: number;
  user_chat_id: string;
  channel: string;
  cost_total: number;
  cost_cart: number;
  cost_discount: number;
  cost_delivery: number;
  delivery: string;
  time: string;
  address: string;
  mobile: string;
  recipient: string;
  goods: { id: string; article: string; title: string; count: number; price: number; discount: number; total: number }[];
}

/** Waits until the CRM has seen `count` requests and nothing more arrives for a moment. */
async function settled(crm: FakeCrm, count: number): Promise<CrmRequest[]> {
  await crm.waitFor(count, 15_000);
  await pause(400);
  return [...crm.requests];
}

describe('new-order notifications to the CRM, end to end', () => {
  let crm: FakeCrm;
  let shop: Shop;

  beforeAll(async () => {
    crm = await startFakeCrm();
    shop = await startShop({ CRM_URL: crm.url, CRM_SECRET: secret });
  });
  afterAll(async () => {
    await shop?.close();
    await crm?.close();
  });
  afterEach(() => crm.reset());

  it('sends one signed POST with every contract field and exact sums for a chat purchase', async () => {
    const customer = await WebCustomer.open(shop.url);
    const orderId = await buyThroughWeb(customer);
    const [request, ...more] = await settled(crm, 1);
    expect(more).toHaveLength(0);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/orders');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-orderly-signature']).toBe(hmac(request!.rawBody));

    const body = request!.body as Notified;
    expect(Object.keys(body)).toEqual(contractFields);
    for (const item of body.goods) expect(Object.keys(item)).toEqual(goodsFields);
    const { user_id } = await data<{ user_id: number }>(shop.url, 'findCustomer', { channel: 'web', external_id: customer.user });
    expect(body).toMatchObject({ id: orderId, user_id, user_chat_id: customer.user, channel: 'web', delivery: 'shipping', recipient: 'Ana Lopez' });
    expect(body.address).toContain('Calle Mayor 1');

    // The sums, recomputed from the catalog in minor units: nothing rounded, nothing lost.
    const catalog = await loadCatalogFile(demoCatalogFile());
    for (const item of body.goods) {
      expect(item.price).toBe(catalog.get(item.id)!.price);
      expect(item.total).toBe(item.price * item.count - item.discount);
    }
    const cart = body.goods.reduce((sum, item) => sum + item.price * item.count, 0);
    expect(body.cost_cart).toBe(cart);
    expect(body.cost_discount).toBe(body.goods.reduce((sum, item) => sum + item.discount, 0));
    expect(body.cost_delivery).toBe(cart - body.cost_discount < 5_000 ? 490 : 0);
    expect(body.cost_total).toBe(body.cost_cart - body.cost_discount + body.cost_delivery);

    // The CRM sees what the merchant API shows.
    const order = await data<Notified>(shop.url, 'getOrder', { id: orderId });
    expect(body).toMatchObject({ cost_total: order.cost_total, mobile: order.mobile, goods: order.goods });
  });

  it('keeps trying a CRM that answers 500 three times, and delivers on the fourth try', async () => {
    crm.fail({ status: 500, times: 3 });
    await buyThroughWeb(await WebCustomer.open(shop.url));
    const requests = await settled(crm, 4);
    expect(requests.map((request) => request.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(requests.map((request) => request.rawBody)).size).toBe(1);
    const metrics = await (await fetch(`${shop.url}/metrics`)).text();
    expect(metrics).toMatch(/orderly_effects_dispatched_total\{type="notify_crm",outcome="retry"\} 3/);
  });
});

describe('a CRM read with GET', () => {
  let crm: FakeCrm;
  let shop: Shop;

  beforeAll(async () => {
    crm = await startFakeCrm('/hook?shop=demo');
    shop = await startShop({ CRM_URL: crm.url, CRM_METHOD: 'GET', CRM_SECRET: secret });
  });
  afterAll(async () => {
    await shop?.close();
    await crm?.close();
  });

  it('gets the same data in a bracketed query string, signed over the exact query', async () => {
    const customer = await WebCustomer.open(shop.url);
    const orderId = await buyThroughWeb(customer);
    const [request, ...more] = await settled(crm, 1);
    expect(more).toHaveLength(0);
    expect(request!.method).toBe('GET');
    expect(request!.rawBody).toBe('');
    expect(request!.headers['x-orderly-signature']).toBe(hmac(request!.rawQuery));
    expect(request!.rawQuery).toMatch(/^shop=demo&id=\d+&user_id=\d+&/);
    expect(request!.rawQuery).toContain('&goods[0][id]=');
    expect(request!.rawQuery).not.toMatch(/[ +]/);

    const { shop: own, ...query } = request!.query;
    expect(own).toBe('demo');
    const order = await data<Notified>(shop.url, 'getOrder', { id: orderId });
    const expected = {
      id: order.id,
      user_id: order.user_id,
      user_chat_id: order.user_chat_id,
      channel: order.channel,
      cost_total: order.cost_total,
      cost_cart: order.cost_cart,
      cost_discount: order.cost_discount,
      cost_delivery: order.cost_delivery,
      delivery: order.delivery,
      time: order.time,
      recipient: order.recipient,
      address: order.address,
      mobile: order.mobile,
      goods: order.goods,
    };
    expect(Object.keys(query)).toEqual(contractFields);
    expect(query).toEqual(JSON.parse(JSON.stringify(expected, (_key, value: unknown) => (typeof value === 'number' ? String(value) : value))));
  });
});

describe('a notification the CRM never takes', () => {
  let crm: FakeCrm;
  let shop: Shop;

  beforeAll(async () => {
    crm = await startFakeCrm();
    shop = await startShop({ CRM_URL: crm.url, CRM_MAX_ATTEMPTS: '2' });
  });
  afterAll(async () => {
    await shop?.close();
    await crm?.close();
  });

  it('is given up after CRM_MAX_ATTEMPTS, counted in /metrics, and sent again by retryNotifications', async () => {
    const before = await (await fetch(`${shop.url}/metrics`)).text();
    expect(before).toMatch(/^orderly_crm_notifications_dead_total 0$/m);
    crm.fail({ status: 503, times: 2 });
    await buyThroughWeb(await WebCustomer.open(shop.url));
    expect((await settled(crm, 2)).map((request) => request.status)).toEqual([503, 503]);
    const after = await (await fetch(`${shop.url}/metrics`)).text();
    expect(after).toMatch(/^orderly_crm_notifications_dead_total 1$/m);
    expect(after).toMatch(/orderly_effects_dispatched_total\{type="notify_crm",outcome="dead"\} 1/);

    expect(await data(shop.url, 'retryNotifications', {})).toEqual({ requeued: 1 });
    const requests = await settled(crm, 3);
    expect(requests.map((request) => request.status)).toEqual([503, 503, 200]);
    expect(requests[2]!.rawBody).toBe(requests[0]!.rawBody);
    expect(await data(shop.url, 'retryNotifications', {})).toEqual({ requeued: 0 });
    expect((await call(shop.url, 'retryNotifications', { all: true })).status).toBe(400);
  });
});

describe('createCrmNotifier', () => {
  let crm: FakeCrm;
  let notifier: CrmNotifier | undefined;
  const store = {
    getOrder: async () => null,
    findCustomer: async () => ({ id: 7, address: { channel: 'web', account: 'web', user: 'u1' }, createdAt: 0 }),
  };
  const effect: EffectOf<'notify_crm'> = {
    type: 'notify_crm',
    orderId: 12,
    order: {
      id: 12,
      user_chat_id: 'u1',
      channel: 'web',
      cost_total: 2_990,
      cost_cart: 2_500,
      cost_discount: 0,
      cost_delivery: 490,
      delivery: 'shipping',
      time: "tomorrow, after 6 o'clock",
      recipient: 'Zoë Ölçer',
      address: 'Calle Mayor 1 & 2',
      mobile: '+34600111222',
      goods: [{ id: 'eth', article: 'CB-ETH', title: 'Tea (green) [loose]', count: 2, price: 1_250, discount: 0, total: 2_500 }],
    },
  };
  const item = { attempts: 0 } as OutboxItem;

  beforeAll(async () => {
    crm = await startFakeCrm();
  });
  afterEach(async () => {
    await notifier?.close();
    notifier = undefined;
    crm.reset();
  });
  afterAll(() => crm.close());

  const failureOf = async (promise: Promise<unknown>): Promise<DeliveryError> => {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeliveryError);
    return error as DeliveryError;
  };

  it('fills user_id from the store and sends no signature without a secret', async () => {
    notifier = createCrmNotifier({ url: crm.url, method: 'POST' }, { store });
    await notifier(effect, item);
    const [request] = crm.requests;
    expect((request!.body as Notified).user_id).toBe(7);
    expect(request!.headers['x-orderly-signature']).toBeUndefined();
  });

  it('encodes the query per RFC 3986, keeping the brackets', async () => {
    notifier = createCrmNotifier({ url: crm.url, method: 'GET', secret }, { store });
    await notifier(effect, item);
    const [request] = crm.requests;
    expect(request!.rawQuery).toContain("time=tomorrow%2C%20after%206%20o%27clock");
    expect(request!.rawQuery).toContain('goods[0][title]=Tea%20%28green%29%20%5Bloose%5D');
    expect(request!.rawQuery).toContain('recipient=Zo%C3%AB%20%C3%96l%C3%A7er');
    expect(request!.rawQuery).toContain('address=Calle%20Mayor%201%20%26%202');
    expect(request!.headers['x-orderly-signature']).toBe(hmac(request!.rawQuery));
    expect((request!.query as { recipient: string }).recipient).toBe('Zoë Ölçer');
  });

  it('retries a 4xx answer too, with the status kept, and honours Retry-After', async () => {
    notifier = createCrmNotifier({ url: crm.url, method: 'POST' }, { store });
    crm.fail({ status: 400 });
    const refused = await failureOf(notifier(effect, item));
    expect(refused.delivery).toMatchObject({ retryable: true, platformCode: 400 });
    expect(refused.message).toContain('CRM answered 400');
    crm.fail({ status: 429, retryAfterSeconds: 3 });
    expect((await failureOf(notifier(effect, item))).delivery).toMatchObject({ retryable: true, retryAfterMs: 3_000 });
  });

  it('keeps the start of a refusal in the error, with a phone number the CRM echoes masked', async () => {
    notifier = createCrmNotifier({ url: crm.url, method: 'POST' }, { store });
    crm.fail({ status: 422, body: '{"error":"mobile +34 600-111-222 is not valid",\n "order": 12}' });
    const refused = await failureOf(notifier(effect, item));
    expect(refused.message).toBe('CRM answered 422: {"error":"mobile [number] is not valid", "order": 12}');
  });

  it('gives up on a slow CRM after the timeout, retryably', async () => {
    notifier = createCrmNotifier({ url: crm.url, method: 'POST', timeoutMs: 200 }, { store });
    crm.slow(1_000);
    const started = Date.now();
    const slow = await failureOf(notifier(effect, item));
    expect(Date.now() - started).toBeLessThan(900);
    expect(slow.delivery.retryable).toBe(true);
    expect(slow.message).toContain('did not answer within 200 ms');
  });

  it('retries a CRM that cannot be reached, and fails at once a notification that is not an order', async () => {
    notifier = createCrmNotifier({ url: 'http://127.0.0.1:9/orders', method: 'POST', secret }, { store });
    const unreachable = await failureOf(notifier(effect, item));
    expect(unreachable.delivery.retryable).toBe(true);
    expect(unreachable.message).not.toContain(secret);
    const broken = await failureOf(notifier({ ...effect, order: { id: 12 } }, item));
    expect(broken.delivery.retryable).toBe(false);
  });
});

describe('toBracketedQuery', () => {
  it('nests arrays and objects with brackets, and encodes every reserved character', () => {
    expect(toBracketedQuery({ id: 1, goods: [{ id: 'a b', n: 2 }], empty: [], none: undefined, nil: null })).toBe('id=1&goods[0][id]=a%20b&goods[0][n]=2&nil=');
    expect(rfc3986("!'()*~-._ /?#[]@&=+$,;:")).toBe("%21%27%28%29%2A~-._%20%2F%3F%23%5B%5D%40%26%3D%2B%24%2C%3B%3A");
  });
});
