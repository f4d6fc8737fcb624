import { describe, expect, it } from 'vitest';
import { buildOrderData, type OrderData } from '../../src/commerce/order.js';
import { priceCart } from '../../src/commerce/cart.js';
import type { InboundEvent } from '../../src/core/events.js';
import { orderFlow, orderTransition } from '../../flows/order.js';
import { shopFlow } from '../../flows/shop.js';
import { customer, drive, fixtureServices, ofType, replies, said, type Input } from './drive.js';

const services = fixtureServices();
const data: OrderData = buildOrderData(
  priceCart(
    [
      { productId: 'eth', quantity: 2 },
      { productId: 'sticker', quantity: 3 },
    ],
    services.catalog,
    { delivery: 'shipping' },
  ),
  { address: '1 Main Street, 12345 Town', recipient: 'Ada Lovelace', mobile: '+442079460958', time: 'asap' },
);

/** `order_created` as the engine builds it from the shop flow's `create_order`. */
const created = (orderId = 12): Input => ({
  type: 'order_created',
  orderId,
  order: { ...data, id: orderId, customer, total: data.cost_total, currency: data.currency },
});
const status = (value: number, trackingUrl?: string): Input => ({ type: 'order_status', orderId: 12, status: value, ...(trackingUrl ? { trackingUrl } : {}) });
const paid: Input = { type: 'order_paid', orderId: 12, method: 'cash' };

function openOrder() {
  const order = drive(orderFlow, services, { key: 'order:12' });
  order.send(created());
  return order;
}

describe('the order lifecycle', () => {
  it('sends the receipt, notifies the CRM and tells the conversation when the order is created', () => {
    const order = drive(orderFlow, services, { key: 'order:12' });
    const effects = order.send(created());
    const [receipt] = replies(effects);
    expect(receipt).toMatchObject({
      kind: 'receipt',
      orderId: 12,
      recipientName: 'Ada Lovelace',
      delivery: 'shipping',
      summary: { subtotal: 2530, shippingCost: 490, totalCost: 3020 },
      items: [
        { title: 'Ethiopia Yirgacheffe', quantity: 2, price: 1250, imageUrl: 'https://example.com/eth.jpg' },
        { title: 'Sticker', quantity: 3, price: 10 },
      ],
    });
    expect(receipt?.kind === 'receipt' && receipt.text).toContain('3 × Sticker: €0.30');
    expect(ofType(effects, 'reply')[0]?.to).toEqual(customer);

    const [crm] = ofType(effects, 'notify_crm');
    expect(crm?.orderId).toBe(12);
    expect(crm?.order).not.toHaveProperty('user_id');
    expect(crm?.order).toMatchObject({
      id: 12,
      user_chat_id: 'u1',
      channel: 'test',
      cost_total: 3020,
      cost_cart: 2530,
      cost_discount: 0,
      cost_delivery: 490,
      delivery: 'shipping',
      time: 'asap',
      recipient: 'Ada Lovelace',
      address: '1 Main Street, 12345 Town',
      mobile: '+442079460958',
    });
    expect(crm?.order.goods).toEqual(data.items);

    const [tell] = ofType(effects, 'tell');
    expect(tell?.event).toEqual({
      type: 'order_update',
      id: 'e1>update',
      key: 'conv:test:shop:u1',
      at: 1_700_000_000_000,
      address: customer,
      orderId: 12,
      status: 0,
      paid: false,
      total: 3020,
      currency: 'EUR',
    });
    expect(order.value).toBe('open');
  });

  it('moves up a status with update_order, a shipping update and news for the conversation', () => {
    const order = openOrder();
    const effects = order.send(status(70, 'https://track.example.com/1Z'));
    expect(ofType(effects, 'update_order')).toEqual([{ type: 'update_order', orderId: 12, status: 70 }]);
    expect(replies(effects)).toEqual([
      {
        kind: 'shipping_update',
        orderId: 12,
        status: 70,
        statusText: 'on its way',
        text: 'Your order #12 is on its way.',
        trackingUrl: 'https://track.example.com/1Z',
        trackingUrlTitle: 'Track package',
        intent: 'update',
      },
    ]);
    expect(ofType(effects, 'tell')[0]?.event).toMatchObject({ type: 'order_update', orderId: 12, status: 70, paid: false });
  });

  it.each([
    [20, 'is confirmed'],
    [30, 'was cancelled'],
    [50, 'refund'],
    [60, 'packed'],
    [80, 'was delivered'],
    [90, 'was handed over'],
  ])('tells the customer about status %i', (code, words) => {
    const order = openOrder();
    expect(said(order.send(status(code)))).toContain(words);
  });

  it('records "awaiting processing" without bothering the customer', () => {
    const order = openOrder();
    const effects = order.send(status(10));
    expect(ofType(effects, 'update_order')).toHaveLength(1);
    expect(ofType(effects, 'tell')).toHaveLength(1);
    expect(replies(effects)).toEqual([]);
  });

  it('never lowers a status, and refuses unknown ones, without any effect', () => {
    const order = openOrder();
    order.send(status(60));
    expect(order.send(status(20))).toEqual([]);
    expect(order.send(status(15))).toEqual([]);
    expect(order.send(status(-1))).toEqual([]);
    expect(order.context).toMatchObject({ status: 60 });
  });

  it('notifies once when the same status comes twice', () => {
    const order = openOrder();
    expect(replies(order.send(status(20)))).toHaveLength(1);
    expect(order.send(status(20))).toEqual([]);
  });

  it('takes the payment once', () => {
    const order = openOrder();
    const effects = order.send(paid);
    expect(ofType(effects, 'update_order')).toEqual([{ type: 'update_order', orderId: 12, paid: true }]);
    expect(replies(effects)).toEqual([
      { kind: 'text', text: 'We received your payment of €30.20 for order #12. Thank you!', intent: 'update' },
    ]);
    expect(ofType(effects, 'tell')[0]?.event).toMatchObject({ status: 0, paid: true });
    expect(order.send(paid)).toEqual([]);
  });

  it('sets paid with status 40, after which a payment is nothing new', () => {
    const order = openOrder();
    const effects = order.send(status(40));
    expect(ofType(effects, 'update_order')).toEqual([{ type: 'update_order', orderId: 12, status: 40, paid: true }]);
    expect(said(effects)).toContain('is paid');
    expect(order.send(paid)).toEqual([]);
  });

  it('moves to status 40 quietly when the order was paid already', () => {
    const order = openOrder();
    order.send(paid);
    const effects = order.send(status(40));
    expect(ofType(effects, 'update_order')).toEqual([{ type: 'update_order', orderId: 12, status: 40 }]);
    expect(replies(effects)).toEqual([]);
  });

  it('ignores a second order_created', () => {
    const order = openOrder();
    expect(order.send(created())).toEqual([]);
  });

  it('applies a status that comes before the order, telling nobody, and keeps it', () => {
    const order = drive(orderFlow, services, { key: 'order:12' });
    const effects = order.send({ ...status(20), address: undefined } as Input);
    expect(ofType(effects, 'update_order')).toHaveLength(1);
    expect(replies(effects)).toEqual([]);
    const news = order.send(created());
    expect(order.context).toMatchObject({ status: 20 });
    expect(ofType(news, 'tell')[0]?.event).toMatchObject({ status: 20 });
  });

  it('fails loudly on an order_created that carries no order model', () => {
    const order = drive(orderFlow, services, { key: 'order:12' });
    expect(() => order.send({ type: 'order_created', orderId: 12, order: { customer } })).toThrow(/failed on order_created/);
  });

  it('exports the transition rule for the merchant API', () => {
    expect(orderTransition(60, false, { type: 'order_status', status: 20 })).toMatchObject({ accepted: false });
    expect(orderTransition(20, false, { type: 'order_status', status: 20 })).toMatchObject({ accepted: true, changed: false });
  });
});

describe('the order flow and the conversation together', () => {
  it('lists the order under My orders once the order flow tells the conversation', () => {
    const chat = drive(shopFlow, services);
    chat.tap('qty:eth:2');
    chat.tap('checkout');
    chat.tap('delivery:pickup');
    chat.say('Ada Lovelace');
    chat.say('+44 20 7946 0958');
    chat.say('asap');
    const [create] = ofType(chat.tap('confirm'), 'create_order');

    const order = drive(orderFlow, services, { key: 'order:31' });
    const { customer: who, total, currency } = create!;
    const news = order.send({ type: 'order_created', orderId: 31, order: { ...create!.order, id: 31, customer: who, total, currency } });
    expect(replies(news)[0]).toMatchObject({ kind: 'receipt', orderId: 31, summary: { totalCost: 2500 } });
    const moved = order.send({ type: 'order_status', orderId: 31, status: 20 });

    for (const tell of [...ofType(news, 'tell'), ...ofType(moved, 'tell')]) {
      const { id: _id, key: _key, at: _at, address: _address, ...event } = tell.event as InboundEvent;
      chat.send(event as Input);
    }
    expect(said(chat.tap('orders'))).toContain('#31: confirmed, €25.00');
  });
});
