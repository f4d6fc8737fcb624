import { describe, expect, it } from 'vitest';
import { priceCart } from '../../src/commerce/cart.js';
import { parseCatalog } from '../../src/commerce/catalog.js';
import { buildOrderData, canMoveTo, crmPayload, orderStatuses, orderTransition, statusName, type OrderData } from '../../src/commerce/order.js';

const catalog = parseCatalog(
  JSON.stringify([
    { id: 'beans', article: 'CB-1', title: 'Beans', description: '', price: '12.50', currency: 'EUR', image_url: 'https://example.com/b.jpg' },
    { id: 'mug', article: 'MUG-1', title: 'Mug', description: '', price: '16.00', currency: 'EUR', image_url: 'https://example.com/m.jpg' },
  ]),
  'json',
);
const cart = [
  { productId: 'beans', quantity: 2 },
  { productId: 'mug', quantity: 1 },
];
const details = { address: '1 Main Street, 12345 Town', recipient: 'Ada Lovelace', mobile: '+442079460958', time: 'tomorrow after 6pm' };

describe('order statuses', () => {
  it("are the contract's codes and names", () => {
    expect(orderStatuses.map(({ code, name }) => `${code} ${name}`)).toEqual([
      '0 created',
      '10 awaiting processing',
      '20 confirmed',
      '30 cancelled',
      '40 paid',
      '50 refund issued',
      '60 packed for dispatch',
      '70 sent to the recipient',
      '80 delivered',
      '90 handed over',
    ]);
    expect(statusName(70)).toBe('sent to the recipient');
    expect(statusName(15)).toBeUndefined();
  });

  it('are never lowered, and unknown codes are refused', () => {
    expect(canMoveTo(0, 20)).toBe(true);
    expect(canMoveTo(20, 20)).toBe(true);
    expect(canMoveTo(60, 20)).toBe(false);
    expect(canMoveTo(20, 25)).toBe(false);
    expect(canMoveTo(15, 20)).toBe(false);
    expect(canMoveTo(90, 100)).toBe(false);
  });
});

describe('orderTransition', () => {
  it('accepts a higher status as a change', () => {
    expect(orderTransition(0, false, { type: 'order_status', status: 20 })).toEqual({ accepted: true, changed: true });
  });

  it('accepts the same status without a change', () => {
    expect(orderTransition(20, false, { type: 'order_status', status: 20 })).toEqual({
      accepted: true,
      changed: false,
      reason: 'the order is already confirmed',
    });
  });

  it('refuses a lower status and an unknown one, saying why', () => {
    expect(orderTransition(60, false, { type: 'order_status', status: 20 })).toEqual({
      accepted: false,
      changed: false,
      reason: 'the order is 60 (packed for dispatch); a status is never lowered to 20 (confirmed)',
    });
    expect(orderTransition(0, false, { type: 'order_status', status: 15 })).toMatchObject({ accepted: false, reason: '15 is not an order status' });
  });

  it('pays once', () => {
    expect(orderTransition(0, false, { type: 'order_paid' })).toEqual({ accepted: true, changed: true });
    expect(orderTransition(0, true, { type: 'order_paid' })).toMatchObject({ accepted: true, changed: false });
  });
});

describe('buildOrderData', () => {
  it('writes the order model with integer sums', () => {
    const data = buildOrderData(priceCart(cart, catalog, { delivery: 'shipping' }), details);
    expect(data).toEqual({
      items: [
        { id: 'beans', article: 'CB-1', title: 'Beans', count: 2, price: 1250, discount: 0, total: 2500 },
        { id: 'mug', article: 'MUG-1', title: 'Mug', count: 1, price: 1600, discount: 0, total: 1600 },
      ],
      delivery: 'shipping',
      address: '1 Main Street, 12345 Town',
      recipient: 'Ada Lovelace',
      mobile: '+442079460958',
      time: 'tomorrow after 6pm',
      cost_cart: 4100,
      cost_discount: 0,
      cost_delivery: 490,
      cost_total: 4590,
      currency: 'EUR',
    } satisfies OrderData);
  });

  it('has no address for pickup', () => {
    expect(buildOrderData(priceCart(cart, catalog, { delivery: 'pickup' }), details)).toMatchObject({ address: '', cost_delivery: 0, cost_total: 4100 });
  });

  it('needs the cart priced with its delivery', () => {
    expect(() => buildOrderData(priceCart(cart, catalog), details)).toThrow('price the cart with its delivery');
  });
});

describe('crmPayload', () => {
  const data = buildOrderData(priceCart(cart, catalog, { delivery: 'shipping' }), details);
  const customer = { channel: 'telegram', account: 'bot1', user: '777' };

  it("has exactly the contract's fields, in its order", () => {
    const payload = crmPayload({ id: 42, customer, customerId: 7, data });
    expect(Object.keys(payload)).toEqual([
      'id',
      'user_id',
      'user_chat_id',
      'channel',
      'cost_total',
      'cost_cart',
      'cost_discount',
      'cost_delivery',
      'delivery',
      'time',
      'recipient',
      'address',
      'mobile',
      'goods',
    ]);
    expect(payload).toMatchObject({ id: 42, user_id: 7, user_chat_id: '777', channel: 'telegram', cost_total: 4590, cost_cart: 4100, cost_delivery: 490, delivery: 'shipping' });
    expect(payload.goods).toEqual(data.items);
    expect(Object.keys(payload.goods[0]!)).toEqual(['id', 'article', 'title', 'count', 'price', 'discount', 'total']);
  });

  it('leaves user_id to the CRM notifier when the customer id is not known', () => {
    expect(crmPayload({ id: 42, customer, data })).not.toHaveProperty('user_id');
  });

  it('refuses data that is not an order model', () => {
    expect(() => crmPayload({ id: 1, customer, data: { items: [] } })).toThrow();
  });
});
