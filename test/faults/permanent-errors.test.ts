import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphFailures, startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';
import {
  apiData,
  capturedLines,
  leakedSecrets,
  messengerPostback,
  messengerText,
  messengerTextOf,
  postWebhook,
  recipientOf,
  requestsTo,
  searchEcho,
  secrets,
  sleep,
  startFaultServer,
  waitUntil,
  type FaultServer,
} from './harness.js';

/**
 * A customer who blocked the page: every send to them answers Graph error 551 ("This person
 * isn't available right now"). Each message is recorded failed once and never retried,
 * while other customers, and this customer's own conversation, go on.
 */

interface MessageView {
  id: number;
  status: string;
  error: string | null;
  history: { status: string; error?: string }[];
  message: { kind: string; text?: string };
}

let graph: FakeGraphApi;
let shop: FaultServer;

beforeAll(async () => {
  graph = await startFakeGraphApi({ pageToken: secrets.pageToken });
  shop = await startFaultServer({ graph });
});

afterAll(async () => {
  await shop?.close();
  await graph?.close();
  expect(leakedSecrets(capturedLines())).toEqual([]);
});

describe('a customer who blocked the page', () => {
  it('has each message marked failed once, never retried, while the others and their own conversation go on', { timeout: 30_000 }, async () => {
    const blocker = '7200000000000001';
    const other = '7200000000000002';
    let blocked = true;
    graph.fail({ ...graphFailures.userUnavailable(), times: Infinity, when: (request) => blocked && recipientOf(request) === blocker });

    // The blocker asks for a product's quantity prompt; the other customer searches, meanwhile.
    const sent = await Promise.all([
      postWebhook(shop.url, 'messenger', messengerText(blocker, 'search blk1')),
      postWebhook(shop.url, 'messenger', messengerText(other, 'search oth1')),
    ]);
    expect(sent.map((answer) => answer.status)).toEqual([200, 200]);
    expect((await postWebhook(shop.url, 'messenger', messengerPostback(blocker, 'add:earl-grey-100', 'Add to cart'))).status).toBe(200);
    expect((await postWebhook(shop.url, 'messenger', messengerText(other, 'search oth2'))).status).toBe(200);

    await waitUntil(() => requestsTo(graph, blocker).length >= 2 && graph.delivered('messenger').length >= 2, 'the sends to both customers');
    // With RETRY_BASE_MS=20 a retry would come within milliseconds: a second is plenty to see none.
    await sleep(1_000);
    const toBlocker = requestsTo(graph, blocker);
    expect(toBlocker.map((request) => request.status)).toEqual([400, 400]);
    expect(searchEcho(messengerTextOf(toBlocker[0]!))).toBe('blk1');
    // The other customer was answered, in order, untouched by the failures.
    expect(requestsTo(graph, other).map((request) => [request.status, searchEcho(messengerTextOf(request))])).toEqual([
      [200, 'oth1'],
      [200, 'oth2'],
    ]);

    // The merchant API shows both messages failed, with the platform's code, failed exactly once.
    const customer = await apiData<{ user_id: number }>(shop.url, 'findCustomer', { channel: 'messenger', external_id: blocker });
    const { messages } = await apiData<{ messages: MessageView[] }>(shop.url, 'listMessages', { user_id: customer.user_id });
    expect(messages).toHaveLength(2);
    for (const listed of messages) {
      const message = await apiData<MessageView>(shop.url, 'getMessage', { id: listed.id });
      expect(message.status).toBe('failed');
      expect(message.error).toContain('551');
      expect(message.history.filter((entry) => entry.status === 'failed')).toHaveLength(1);
      expect(message.history.map((entry) => entry.status)).not.toContain('sent');
    }

    // Unblocked, the customer answers the quantity question the failed message asked: the
    // conversation moved on although its replies could not be sent.
    blocked = false;
    expect((await postWebhook(shop.url, 'messenger', messengerText(blocker, '2'))).status).toBe(200);
    await waitUntil(() => requestsTo(graph, blocker).length >= 3, 'the reply after unblocking');
    const reply = requestsTo(graph, blocker)[2]!;
    expect(reply.status).toBe(200);
    expect(messengerTextOf(reply)).toMatch(/^Added 2 × Earl Grey/);
    const after = await apiData<{ messages: MessageView[] }>(shop.url, 'listMessages', { user_id: customer.user_id });
    expect(after.messages.map((message) => message.status)).toEqual(['failed', 'failed', 'sent']);
  });
});
