import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { createTestChat, type TestChat } from '../../src/testing/index.js';
import { shopFlows } from '../../flows/index.js';
import { defaultTexts, type Texts } from '../../flows/messages.js';
import { createShopServices } from '../../flows/services.js';
import { buyOne, fixtureCatalog } from './drive.js';

let chat: TestChat;
afterEach(() => chat.close());

/** A shop that words the buttons channels add on their own (a list's, a link's) in French. */
const frenchTexts: Texts = {
  ...defaultTexts,
  buttons: { ...defaultTexts.buttons, choose: 'Choisir', trackPackage: 'Suivre le colis' },
  receipt: { ...defaultTexts.receipt, viewOrder: 'Voir la commande' },
};

const ofKind = <K extends OutboundMessage['kind']>(messages: readonly OutboundMessage[], kind: K) =>
  messages.filter((message): message is Extract<OutboundMessage, { kind: K }> => message.kind === kind);

describe("the shop's texts for the buttons channels add", () => {
  it('title the list of choices, in the shop, in the rating flow, and under product cards', async () => {
    chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog(), frenchTexts) });
    expect(await chat.send('hi')).toEqual([expect.objectContaining({ kind: 'text', quickReplies: expect.any(Array), choicesTitle: 'Choisir' })]);
    await chat.tap('Browse');
    expect(await chat.tap('Coffee')).toEqual([expect.objectContaining({ kind: 'products', choicesTitle: 'Choisir' })]);

    const orderId = await buyOne(chat);
    const [ask] = ofKind(await chat.setOrderStatus(orderId, 80), 'text').filter((message) => message.text.includes('How did we do?'));
    expect(ask).toMatchObject({ quickReplies: expect.any(Array), choicesTitle: 'Choisir' });
  });

  it('title the tracking link of an order update, when the merchant gives one', async () => {
    chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog(), frenchTexts) });
    await chat.send('hi');
    const orderId = await buyOne(chat);
    const [sent] = ofKind(await chat.setOrderStatus(orderId, 70, 'https://track.example.com/1Z'), 'shipping_update');
    expect(sent).toMatchObject({ trackingUrl: 'https://track.example.com/1Z', trackingUrlTitle: 'Suivre le colis' });
    const [delivered] = ofKind(await chat.setOrderStatus(orderId, 80), 'shipping_update');
    expect(delivered).not.toHaveProperty('trackingUrlTitle');
  });

  it('are English by default', async () => {
    chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog()) });
    expect(await chat.send('hi')).toEqual([expect.objectContaining({ choicesTitle: 'Choose' })]);
    const orderId = await buyOne(chat);
    const [sent] = ofKind(await chat.setOrderStatus(orderId, 70, 'https://track.example.com/1Z'), 'shipping_update');
    expect(sent).toMatchObject({ trackingUrlTitle: 'Track package' });
  });
});
