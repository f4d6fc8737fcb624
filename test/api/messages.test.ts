import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, data, startShop, WebCustomer, type Shop } from './harness.js';

interface MessageView {
  id: number;
  user_id: number | null;
  channel: string;
  external_id: string;
  platform_message_id: string | null;
  status: string;
  history: { status: string; at: number }[];
  created_at: number;
  message: { kind: string };
}

describe('the message log methods', () => {
  let shop: Shop;
  let customer: WebCustomer;
  let userId: number;

  beforeAll(async () => {
    shop = await startShop();
    customer = await WebCustomer.open(shop.url);
    await customer.say('hi');
    await customer.say('menu');
    ({ user_id: userId } = await data<{ user_id: number }>(shop.url, 'findCustomer', { channel: 'web', external_id: customer.user }));
  });
  afterAll(() => shop?.close());

  it('lists what the shop sent a customer, with delivery status and history, page by page', async () => {
    const all = await data<{ messages: MessageView[]; next: number | null }>(shop.url, 'listMessages', { user_id: userId, limit: 100 });
    expect(all.messages.map((view) => view.id)).toEqual(customer.log.map((entry) => entry.id));
    expect(all.next).toBeNull();
    const [first] = all.messages;
    expect(first).toMatchObject({ user_id: userId, channel: 'web', external_id: customer.user, status: 'sent', platform_message_id: `web:${first!.id}` });
    expect(first!.history).toEqual([{ status: 'sent', at: expect.any(Number) }]);
    expect(first!.message).toEqual(customer.log[0]!.message);

    const page = await data<{ messages: MessageView[]; next: number | null }>(shop.url, 'listMessages', { user_id: userId, limit: 1 });
    expect(page.messages.map((view) => view.id)).toEqual([first!.id]);
    expect(page.next).toBe(first!.id);
    const rest = await data<{ messages: MessageView[] }>(shop.url, 'listMessages', { user_id: userId, after: page.next, limit: 100 });
    expect(rest.messages.map((view) => view.id)).toEqual(all.messages.slice(1).map((view) => view.id));
  });

  it('answers getMessage with one message, and 404 for an unknown message or customer', async () => {
    const id = customer.log[0]!.id;
    const view = await data<MessageView>(shop.url, 'getMessage', { id });
    expect(view).toMatchObject({ id, user_id: userId, channel: 'web', status: 'sent' });
    expect((await call(shop.url, 'getMessage', { id: 987_654 })).body).toEqual({ status: 'fail', message: 'message 987654 not found' });
    expect((await call(shop.url, 'listMessages', { user_id: 987_654 })).status).toBe(404);
  });
});
