import { describe, expect, it } from 'vitest';
import { priceCart } from '../../src/commerce/cart.js';
import { parseCatalog } from '../../src/commerce/catalog.js';
import { buildOrderData, statusName } from '../../src/commerce/order.js';
import { receiptMessage, shippingUpdateMessage, type StatusTexts } from '../../src/commerce/receipt.js';
import { texts as flowTexts } from '../../flows/messages.js';
import { receiptMessageSchema, shippingUpdateMessageSchema } from '../../src/core/outbound.js';

const catalog = parseCatalog(
  JSON.stringify([
    { id: 'beans', article: 'CB-1', title: 'Beans', description: '', price: '12.50', currency: 'EUR', image_url: 'https://example.com/b.jpg' },
    { id: 'grinder', article: 'G-1', title: 'Grinder', description: '', price: '69.00', currency: 'EUR', image_url: 'https://example.com/g.jpg' },
  ]),
  'json',
);
const details = { address: '1 Main Street, 12345 Town', recipient: 'Ada Lovelace', mobile: '+442079460958', time: 'asap' };
const shipped = buildOrderData(priceCart([{ productId: 'beans', quantity: 2 }], catalog, { delivery: 'shipping' }), details);
const createdAt = Date.UTC(2025, 0, 2, 3, 4, 5);
/** The shop's own receipt words (flows/messages.ts): the only copy of them. */
const texts = flowTexts.receipt;
const statusTexts: StatusTexts = {
  statusName: (status) => statusName(status) ?? String(status),
  statusUpdate: (orderId, status) => `Order #${orderId}: ${statusName(status)}.`,
};

describe('receiptMessage', () => {
  it('fills every field of the receipt message', () => {
    const receipt = receiptMessage({ id: 12, data: shipped, createdAt }, { texts, catalog, orderUrl: 'https://shop.example.com/orders/12' });
    expect(receiptMessageSchema.parse(receipt)).toEqual(receipt);
    expect(receipt).toMatchObject({
      kind: 'receipt',
      orderId: 12,
      orderNumber: '12',
      recipientName: 'Ada Lovelace',
      currency: 'EUR',
      paymentMethod: 'Pay on delivery',
      orderUrl: 'https://shop.example.com/orders/12',
      timestamp: createdAt / 1000,
      addressText: '1 Main Street, 12345 Town',
      delivery: 'shipping',
      items: [{ title: 'Beans', subtitle: 'CB-1', quantity: 2, price: 1250, currency: 'EUR', imageUrl: 'https://example.com/b.jpg' }],
      summary: { subtotal: 2500, shippingCost: 490, totalTax: 0, totalCost: 2990 },
      adjustments: [],
    });
  });

  it('shows items, subtotal, delivery and total as plain lines', () => {
    const { text } = receiptMessage({ id: 12, data: shipped, createdAt }, { texts });
    expect(text.split('\n')).toEqual([
      'Order #12',
      '2 × Beans: €25.00',
      'Subtotal: €25.00',
      'Shipping: €4.90',
      'Total: €29.90',
      'For: Ada Lovelace, +442079460958',
      'To: 1 Main Street, 12345 Town',
      'When: asap',
    ]);
  });

  it('says delivery is free for pickup, and has no address then', () => {
    const pickup = buildOrderData(priceCart([{ productId: 'grinder', quantity: 1 }], catalog, { delivery: 'pickup' }), details);
    const receipt = receiptMessage({ id: 13, data: pickup, createdAt }, { texts });
    expect(receipt.text).toContain('Pickup: free');
    expect(receipt.text).not.toContain('To:');
    expect(receipt).not.toHaveProperty('addressText');
    expect(receipt.paymentMethod).toBe('Pay at pickup');
  });

  it('lists a discount as an adjustment', () => {
    const discounted = { ...shipped, cost_discount: 250, cost_total: shipped.cost_total - 250 };
    const receipt = receiptMessage({ id: 14, data: discounted, createdAt }, { texts });
    expect(receipt.adjustments).toEqual([{ name: 'Discount', amount: 250 }]);
    expect(receipt.text).toContain('Discount: −€2.50');
  });

  it('titles the order link with the texts\' viewOrder, and carries no title without a link', () => {
    const linked = receiptMessage({ id: 12, data: shipped, createdAt }, { texts: { ...texts, viewOrder: 'Voir la commande' }, orderUrl: 'https://shop.example.com/orders/12' });
    expect(linked).toMatchObject({ orderUrl: 'https://shop.example.com/orders/12', orderUrlTitle: 'Voir la commande' });
    expect(receiptMessage({ id: 12, data: shipped, createdAt }, { texts })).not.toHaveProperty('orderUrlTitle');
  });
});

describe('shippingUpdateMessage', () => {
  it('tells the status, with the tracking link when there is one', () => {
    const update = shippingUpdateMessage(12, 70, { trackingUrl: 'https://track.example.com/1Z', texts: statusTexts });
    expect(shippingUpdateMessageSchema.parse(update)).toEqual(update);
    expect(update).toEqual({
      kind: 'shipping_update',
      orderId: 12,
      status: 70,
      statusText: 'sent to the recipient',
      text: 'Order #12: sent to the recipient.',
      trackingUrl: 'https://track.example.com/1Z',
    });
    expect(shippingUpdateMessage(12, 80, { texts: statusTexts })).not.toHaveProperty('trackingUrl');
  });

  it('speaks the texts it is given', () => {
    const update = shippingUpdateMessage(5, 20, { texts: { statusName: () => 'bestätigt', statusUpdate: (id) => `Bestellung ${id} ist bestätigt.` } });
    expect(update).toMatchObject({ statusText: 'bestätigt', text: 'Bestellung 5 ist bestätigt.' });
  });

  it('titles the tracking link with the texts\' trackPackage, and carries no title without a link', () => {
    const withTitle = { ...statusTexts, trackPackage: 'Paket verfolgen' };
    const update = shippingUpdateMessage(12, 70, { trackingUrl: 'https://track.example.com/1Z', texts: withTitle });
    expect(shippingUpdateMessageSchema.parse(update)).toEqual(update);
    expect(update).toMatchObject({ trackingUrl: 'https://track.example.com/1Z', trackingUrlTitle: 'Paket verfolgen' });
    expect(shippingUpdateMessage(12, 60, { texts: withTitle })).not.toHaveProperty('trackingUrlTitle');
  });
});
