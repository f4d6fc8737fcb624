import { afterEach, describe, expect, it } from 'vitest';
import { shopFlows } from '../../flows/index.js';
import { createShopServices } from '../../flows/services.js';
import type { InvoiceMessage } from '../../src/core/outbound.js';
import { createTestChat, type TestChat } from '../../src/testing/index.js';
import { fixtureCatalog } from './drive.js';

let chat: TestChat;
afterEach(() => chat.close());

async function buy(): Promise<void> {
  await chat.event({ type: 'cart_order', items: [{ ref: 'CB-ETH', quantity: 2 }, { ref: 'STICKER', quantity: 3 }] });
  await chat.tap('Shipping');
  await chat.send('Main Street 1, 10115 Berlin');
  await chat.send('Ada Lovelace');
  await chat.send('+49 151 2345 6789');
  await chat.tap('As soon as possible');
}

describe('paying in the chat', () => {
  it('sends an invoice after the receipt where the channel takes payments, its lines adding up to the total', async () => {
    chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog(), undefined, { payInChat: ['test'] }) });
    await buy();
    const placed = await chat.tap('Confirm');
    const [order] = await chat.orders();
    const kinds = placed.map((message) => message.kind);
    expect(kinds.indexOf('invoice')).toBe(kinds.indexOf('receipt') + 1);
    const invoice = placed.find((message): message is InvoiceMessage => message.kind === 'invoice')!;
    expect(invoice.lines.map((line) => line.label)).toEqual(['Ethiopia Yirgacheffe × 2', 'Sticker × 3', 'Delivery']);
    expect(invoice.lines.reduce((sum, line) => sum + line.amount, 0)).toBe(order!.total);
    expect(invoice).toMatchObject({ orderId: order!.id, currency: 'EUR', title: `Order #${order!.id}` });
  });

  it('sends no invoice where the channel cannot take payments', async () => {
    chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog()) });
    await buy();
    const placed = await chat.tap('Confirm');
    expect(placed.map((message) => message.kind)).toContain('receipt');
    expect(placed.map((message) => message.kind)).not.toContain('invoice');
  });
});
