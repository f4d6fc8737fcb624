import { describe, expect, it } from 'vitest';
import { renderMessages, wrap } from '../../src/cli/render.js';
import type { OutboundMessage } from '../../src/core/outbound.js';

const mug: OutboundMessage = {
  kind: 'products',
  text: 'Here is what we have:',
  products: [
    {
      id: 'mug',
      article: 'MUG-1',
      title: 'Blue mug',
      description: 'A sturdy stoneware mug.',
      price: 1250,
      currency: 'EUR',
      priceText: '€12.50',
      available: true,
      buttons: [
        { title: 'Add to cart', payload: 'add:mug' },
        { title: 'Photos', url: 'https://example.com/mug' },
      ],
    },
    {
      id: 'pot',
      title: 'Teapot',
      description: '',
      price: 3000,
      currency: 'EUR',
      priceText: '€30.00',
      available: false,
      buttons: [{ title: 'Tell me when back', payload: 'notify:pot' }],
    },
  ],
  quickReplies: [{ title: 'Cart', payload: 'cart' }],
};

describe('renderMessages', () => {
  it('shows a text and numbers its buttons and quick replies in order', () => {
    const { lines, choices } = renderMessages([
      {
        kind: 'text',
        text: 'Hello! What would you like?',
        buttons: [{ title: 'Catalog', payload: 'catalog' }],
        quickReplies: [
          { title: 'Cart', payload: 'cart' },
          { title: 'Help', payload: 'help' },
        ],
      },
    ]);
    expect(lines).toEqual(['Hello! What would you like?', '  [1] Catalog', '  [2] Cart   [3] Help']);
    expect(choices.map((choice) => choice.payload)).toEqual(['catalog', 'cart', 'help']);
  });

  it('shows each product card with its title, price, availability and description', () => {
    const { lines, choices } = renderMessages([mug]);
    expect(lines).toEqual([
      'Here is what we have:',
      '  • Blue mug — €12.50 (in stock · MUG-1)',
      '    A sturdy stoneware mug.',
      '    ↗ Photos: https://example.com/mug',
      '    [1] Add to cart',
      '  • Teapot — €30.00 (out of stock)',
      '    [2] Tell me when back',
      '  [3] Cart',
    ]);
    expect(choices).toEqual([
      { title: 'Add to cart', payload: 'add:mug' },
      { title: 'Tell me when back', payload: 'notify:pot' },
      { title: 'Cart', payload: 'cart' },
    ]);
  });

  it('continues the numbering from firstNumber', () => {
    const { lines } = renderMessages([{ kind: 'text', text: 'More?', quickReplies: [{ title: 'Yes', payload: 'y' }] }], {
      firstNumber: 4,
    });
    expect(lines).toEqual(['More?', '  [4] Yes']);
  });

  it('shows a receipt with its items, subtotal, delivery and total', () => {
    const { lines, choices } = renderMessages([
      {
        kind: 'receipt',
        orderId: 1042,
        orderNumber: '1042',
        recipientName: 'Ada Lovelace',
        currency: 'EUR',
        paymentMethod: 'Cash on delivery',
        timestamp: 1_700_000_000,
        delivery: 'shipping',
        addressText: '1 Analytical Way, London',
        items: [
          { title: 'Blue mug', quantity: 2, price: 1250, currency: 'EUR' },
          { title: 'Teapot', quantity: 1, price: 3000, currency: 'EUR' },
        ],
        summary: { subtotal: 5500, shippingCost: 490, totalTax: 0, totalCost: 5990 },
        adjustments: [],
        text: 'Order #1042 …',
      },
    ]);
    expect(choices).toEqual([]);
    expect(lines[0]).toBe('Receipt for order #1042 (Ada Lovelace)');
    expect(lines.find((line) => line.includes('Blue mug'))).toMatch(/^ {2}2 × Blue mug \(€12\.50 each\) +€25\.00$/);
    expect(lines.find((line) => line.includes('Teapot'))).toMatch(/^ {2}1 × Teapot +€30\.00$/);
    expect(lines.find((line) => line.includes('Subtotal'))).toMatch(/Subtotal +€55\.00$/);
    expect(lines.find((line) => line.includes('Delivery'))).toMatch(/Delivery +€4\.90$/);
    expect(lines.find((line) => line.includes('Total') && !line.includes('Sub'))).toMatch(/Total +€59\.90$/);
    expect(lines).toContain('  Payment: Cash on delivery');
    expect(lines).toContain('  Ships to: 1 Analytical Way, London');
    expect(lines.some((line) => line.includes('Tax'))).toBe(false);
  });

  it('shows a shipping update with its status, text and tracking link', () => {
    const { lines } = renderMessages([
      {
        kind: 'shipping_update',
        orderId: 1042,
        status: 70,
        statusText: 'sent to the recipient',
        text: 'Your order is on its way.',
        packageNumber: 'PKG-9',
        trackingUrl: 'https://track.example.com/PKG-9',
      },
    ]);
    expect(lines).toEqual([
      'Order #1042: sent to the recipient',
      '  Your order is on its way.',
      '  Package: PKG-9',
      '  ↗ Tracking: https://track.example.com/PKG-9',
    ]);
  });
});

describe('wrap', () => {
  it('breaks long text on spaces and keeps paragraphs', () => {
    expect(wrap('one two three four\nfive', 9)).toEqual(['one two', 'three', 'four', 'five']);
  });
});
