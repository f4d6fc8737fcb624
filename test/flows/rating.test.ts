import { afterEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/ids.js';
import { createTestChat, type TestChat } from '../../src/testing/index.js';
import { shopFlows } from '../../flows/index.js';
import { buyOne, fixtureServices } from './drive.js';

let chat: TestChat;
afterEach(() => chat.close());

describe('the rating flow', () => {
  it('asks for a score once the order is delivered, and thanks the customer for it', async () => {
    chat = await createTestChat({ flows: shopFlows, services: fixtureServices() });
    await chat.send('hi');
    const orderId = await buyOne(chat);

    const delivered = await chat.setOrderStatus(orderId, 80);
    const ask = delivered.find((m) => m.kind === 'text' && m.text.includes('How did we do?'));
    expect(ask).toMatchObject({ quickReplies: [{ title: '1 ★' }, {}, {}, {}, { title: '5 ★★★★★', payload: `@rating|${orderId}:5` }] });

    expect(await chat.tap('5 ★★★★★')).toEqual([{ kind: 'text', text: 'Thank you! We are glad you liked it ☕' }]);
    expect(await chat.tap(`@rating|${orderId}:1`)).toEqual([{ kind: 'text', text: 'You already rated this order. Thank you!' }]);
  });

  it('does not ask before delivery, nor twice for one order', async () => {
    chat = await createTestChat({ flows: shopFlows, services: fixtureServices() });
    const update = (status: number) =>
      chat.tell({ type: 'order_update', key: conversationKey(chat.address), address: chat.address, orderId: 7, status, paid: false });
    const asks = async (status: number) =>
      (await update(status)).filter((m) => m.kind === 'text' && m.text.includes('How did we do?')).length;
    expect(await asks(70)).toBe(0);
    expect(await asks(80)).toBe(1);
    expect(await asks(80)).toBe(0);
  });

  it('leaves the shop conversation where it was', async () => {
    chat = await createTestChat({ flows: shopFlows, services: fixtureServices() });
    await chat.send('hi');
    const before = await chat.state();
    expect(await chat.tap('@rating|12:3')).toEqual([{ kind: 'text', text: 'Please tap a score from 1 to 5.' }]);
    expect(await chat.state()).toEqual(before);
  });
});
