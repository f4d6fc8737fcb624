import { describe, expect, it } from 'vitest';
import { addToCart, cartCount, maxLineQuantity, priceCart, pricingRules, removeFromCart, setQuantity } from '../../src/commerce/cart.js';
import { parseCatalog } from '../../src/commerce/catalog.js';

const catalog = parseCatalog(
  JSON.stringify([
    { id: 'beans', article: 'B', title: 'Beans', description: '', price: '12.50', currency: 'EUR', image_url: 'https://example.com/b.jpg' },
    { id: 'sticker', article: 'S', title: 'Sticker', description: '', price: '0.10', currency: 'EUR', image_url: 'https://example.com/s.jpg' },
    { id: 'grinder', article: 'G', title: 'Grinder', description: '', price: '50.00', currency: 'EUR', image_url: 'https://example.com/g.jpg' },
  ]),
  'json',
);

describe('cart lines', () => {
  it('adds to one line per product, in the order first added', () => {
    let cart = addToCart([], 'beans', 2);
    cart = addToCart(cart, 'sticker', 1);
    cart = addToCart(cart, 'beans', 1);
    expect(cart).toEqual([
      { productId: 'beans', quantity: 3 },
      { productId: 'sticker', quantity: 1 },
    ]);
    expect(cartCount(cart)).toBe(4);
  });

  it('sets, removes and caps quantities', () => {
    const cart = addToCart([], 'beans', 2);
    expect(setQuantity(cart, 'beans', 5)).toEqual([{ productId: 'beans', quantity: 5 }]);
    expect(setQuantity(cart, 'beans', 0)).toEqual([]);
    expect(setQuantity(cart, 'sticker', 1)).toHaveLength(2);
    expect(removeFromCart(cart, 'beans')).toEqual([]);
    expect(addToCart(cart, 'beans', 500)[0]?.quantity).toBe(maxLineQuantity);
  });

  it('refuses quantities that are not whole numbers', () => {
    expect(() => addToCart([], 'beans', 0)).toThrow('at least 1');
    expect(() => addToCart([], 'beans', 1.5)).toThrow();
    expect(() => setQuantity([], 'beans', -1)).toThrow('at least 0');
  });
});

describe('priceCart', () => {
  const cart = [
    { productId: 'beans', quantity: 2 },
    { productId: 'sticker', quantity: 3 },
  ];

  it('prices lines and sums in integer minor units', () => {
    const priced = priceCart(cart, catalog, { delivery: 'pickup' });
    expect(priced.lines.map((line) => [line.product.id, line.quantity, line.unitPrice, line.discount, line.total])).toEqual([
      ['beans', 2, 1250, 0, 2500],
      ['sticker', 3, 10, 0, 30],
    ]);
    expect(priced).toMatchObject({ subtotal: 2530, discount: 0, deliveryCost: 0, total: 2530, currency: 'EUR', delivery: 'pickup' });
    for (const amount of [priced.subtotal, priced.discount, priced.deliveryCost, priced.total]) expect(Number.isInteger(amount)).toBe(true);
  });

  it('charges the flat shipping fee below the threshold', () => {
    expect(priceCart(cart, catalog, { delivery: 'shipping' })).toMatchObject({ deliveryCost: pricingRules.shippingFee, total: 2530 + 490 });
  });

  it('ships free from the threshold on', () => {
    const atThreshold = [{ productId: 'grinder', quantity: 1 }];
    expect(priceCart(atThreshold, catalog, { delivery: 'shipping' })).toMatchObject({ subtotal: 5000, deliveryCost: 0, total: 5000 });
    const justBelow = priceCart([{ productId: 'beans', quantity: 3 }, { productId: 'sticker', quantity: 99 }], catalog, { delivery: 'shipping' });
    expect(justBelow.subtotal).toBeLessThan(5000);
    expect(justBelow.deliveryCost).toBe(490);
  });

  it('takes other pricing rules', () => {
    const priced = priceCart(cart, catalog, { delivery: 'shipping', rules: { shippingFee: 700, freeShippingFrom: 2_000 } });
    expect(priced.deliveryCost).toBe(0);
    expect(priceCart(cart, catalog, { delivery: 'shipping', rules: { shippingFee: 700, freeShippingFrom: 9_000 } }).total).toBe(3230);
  });

  it('costs nothing to deliver while no delivery is chosen, or for an empty cart', () => {
    expect(priceCart(cart, catalog).deliveryCost).toBe(0);
    expect(priceCart([], catalog, { delivery: 'shipping' })).toMatchObject({ subtotal: 0, deliveryCost: 0, total: 0 });
  });

  it('leaves out and reports products the catalog no longer has', () => {
    const priced = priceCart([...cart, { productId: 'gone', quantity: 1 }], catalog, { delivery: 'pickup' });
    expect(priced.missing).toEqual(['gone']);
    expect(priced.total).toBe(2530);
  });
});
