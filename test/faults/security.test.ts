import type * as Crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { merchantMethods } from '../../src/api/methods/index.js';
import { loadConfig } from '../../src/server/config.js';
import { startFakeCrm, type FakeCrm } from '../fakes/crm.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import {
  allOrders,
  apiData,
  callApi,
  capturedLines,
  leakedSecrets,
  messengerText,
  postWebhook,
  purchaseScript,
  recipientOf,
  requestsTo,
  secretNeedles,
  secrets,
  signMeta,
  sleep,
  startFaultServer,
  telegramText,
  waitUntil,
  whatsappText,
  type FaultServer,
} from './harness.js';

/**
 * Signatures are checked before anything reads the body, in constant time; replays are
 * answered once; the merchant API changes nothing without its token; and no log line of
 * any of it holds a secret.
 */

// Counts the constant-time comparisons the server makes: the code path, not a stopwatch.
const compared = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.count++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

let graph: FakeGraphApi;
let telegram: FakeTelegram;
let crm: FakeCrm;
let shop: FaultServer;

beforeAll(async () => {
  graph = await startFakeGraphApi({ pageToken: secrets.pageToken, whatsappToken: secrets.whatsappToken });
  telegram = await startFakeTelegram({ token: secrets.botToken });
  crm = await startFakeCrm();
  shop = await startFaultServer({ graph, telegram, crm });
});

afterAll(async () => {
  await shop?.close();
  await Promise.all([graph?.close(), telegram?.close(), crm?.close()]);
  expect(leakedSecrets(capturedLines())).toEqual([]);
});

const malformed = ['{"object":"page","entry":[', '', 'null', '\u0000\u00ff garbage', '{"__proto__":{"polluted":true}}'];

describe('webhook signatures', () => {
  it('are checked before the body is read: a wrong one on a malformed body is 401, not 400', async () => {
    for (const name of ['messenger', 'whatsapp'] as const) {
      for (const raw of malformed) {
        const wrong = [
          'none',
          signMeta(raw, 'not the app secret'),
          signMeta(`${raw} `),
          `sha256=${'z'.repeat(64)}`,
          `sha256=${'0'.repeat(66)}`,
          'sha256=00',
          `sha1=${'0'.repeat(40)}`,
          signMeta(raw).toUpperCase(),
        ];
        for (const signature of wrong) {
          const answer = await postWebhook(shop.url, name, raw, signature);
          expect(answer.status, `${name} ${JSON.stringify(raw)} signed ${signature}`).toBe(401);
          expect(JSON.parse(answer.text)).toEqual({ status: 'fail', message: expect.any(String) });
        }
      }
      // The right signature gets the same malformed body as far as the parser, which refuses it.
      expect((await postWebhook(shop.url, name, malformed[0]!, 'valid')).status).toBe(400);
    }
    for (const raw of malformed) {
      for (const secret of ['none', `${secrets.webhookSecret}x`, secrets.webhookSecret.slice(0, -1), 'x']) {
        expect((await postWebhook(shop.url, 'telegram', raw, secret)).status, `telegram secret ${secret}`).toBe(401);
      }
    }
    expect((await postWebhook(shop.url, 'telegram', malformed[0]!, 'valid')).status).toBe(400);
  });

  it('and the merchant token are compared in constant time', async () => {
    const raw = JSON.stringify(messengerText('7700000000000009', 'hi'));
    const through = async (attempt: () => Promise<number>) => {
      const before = compared.count;
      expect(await attempt()).toBe(401);
      return compared.count - before;
    };
    // A signature of the right length reaches timingSafeEqual; one of another length is refused by its length (public).
    expect(await through(async () => (await postWebhook(shop.url, 'messenger', raw, signMeta(raw, 'wrong secret'))).status)).toBe(1);
    expect(await through(async () => (await postWebhook(shop.url, 'messenger', raw, 'sha256=00')).status)).toBe(0);
    // The Telegram secret and the merchant token are hashed first: every length goes through the comparison.
    expect(await through(async () => (await postWebhook(shop.url, 'telegram', raw, 'x')).status)).toBeGreaterThanOrEqual(1);
    expect(await through(async () => (await postWebhook(shop.url, 'telegram', raw, `${secrets.webhookSecret}0`)).status)).toBeGreaterThanOrEqual(1);
    expect(await through(async () => (await callApi(shop.url, 'listOrders', {}, { token: 'x' })).status)).toBeGreaterThanOrEqual(1);
    expect(await through(async () => (await callApi(shop.url, 'listOrders', {}, { token: `${secrets.merchantToken}0` })).status)).toBeGreaterThanOrEqual(1);
    // Nothing was stored by any of it.
    expect((await callApi(shop.url, 'findCustomer', { channel: 'messenger', external_id: '7700000000000009' })).status).toBe(404);
  });
});

describe('a replayed webhook', () => {
  it('is answered once, however often and however concurrently it comes', { timeout: 20_000 }, async () => {
    const messenger = messengerText('7700000000000001', 'search replay1');
    const whatsapp = whatsappText('34677000001', 'search replay2');
    const update = telegramText(7_700_001, 'search replay3');
    for (const [name, body] of [['messenger', messenger], ['whatsapp', whatsapp], ['telegram', update]] as const) {
      expect((await postWebhook(shop.url, name, body)).status).toBe(200);
      const again = await Promise.all(Array.from({ length: 5 }, () => postWebhook(shop.url, name, body)));
      expect(again.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    }
    const toTelegram = () => telegram.calls('sendMessage').filter((request) => Number(request.body['chat_id']) === 7_700_001);
    await waitUntil(() => requestsTo(graph, '7700000000000001').length > 0 && requestsTo(graph, '34677000001').length > 0 && toTelegram().length > 0, 'the replies');
    // Once answered, the same delivery again is still a duplicate.
    for (const [name, body] of [['messenger', messenger], ['whatsapp', whatsapp], ['telegram', update]] as const) {
      expect((await postWebhook(shop.url, name, body)).status).toBe(200);
    }
    await sleep(1_000);
    expect(requestsTo(graph, '7700000000000001')).toHaveLength(1);
    expect(requestsTo(graph, '34677000001')).toHaveLength(1);
    expect(toTelegram()).toHaveLength(1);
  });
});

describe('the merchant API without a valid token', () => {
  it('answers 401 to every method and changes nothing', { timeout: 30_000 }, async () => {
    const psid = '7700000000000002';
    for (const step of purchaseScript(psid, 'earl-grey-100', 'm_sec_buy')) expect((await postWebhook(shop.url, 'messenger', step)).status).toBe(200);
    await waitUntil(async () => (await allOrders(shop.url)).some((order) => order.user_chat_id === psid), 'the order');
    await waitUntil(() => crm.requests.length > 0, 'the CRM notification');
    const order = (await allOrders(shop.url)).find((candidate) => candidate.user_chat_id === psid)!;
    const task = await apiData<{ id: number }>(shop.url, 'addTask', { user_id: order.user_id, command: 'menu', timestamp: 4_102_444_800 });
    await sleep(500);

    const calls: Record<string, unknown> = {
      getOrder: { id: order.id },
      listOrders: {},
      updateOrderStatus: { id: order.id, status: 30 },
      paidOrder: { id: order.id },
      findCustomer: { channel: 'messenger', external_id: psid },
      addTask: { user_id: order.user_id, command: 'menu', timestamp: 0 },
      removeTask: { id: task.id },
      getTask: { id: task.id },
      getMessage: { id: 1 },
      listMessages: { user_id: order.user_id },
      retryNotifications: {},
      send_template: {
        request: { method: 'send_template', id: 'sec-push-1', template_name: 'Shipping Status Update Push' },
        recipient: { id: psid },
        params: { package_number: 'PKG-1', package_status: 'Shipped' },
      },
    };
    expect(Object.keys(calls).sort()).toEqual([...Object.keys(merchantMethods), 'send_template'].sort());

    const ordersBefore = JSON.stringify(await allOrders(shop.url));
    const sendsBefore = graph.requests.length;
    const crmBefore = crm.requests.length;
    const wrongTokens: { token: string | null; inPath?: boolean; header?: string }[] = [
      { token: null },
      { token: 'wrong' },
      { token: `${secrets.merchantToken}x` },
      { token: secrets.merchantToken.slice(0, -1) },
      { token: secrets.merchantToken.toUpperCase() },
      { token: 'wrong', inPath: true },
      { token: null, header: `Basic ${secrets.merchantToken}` },
      { token: null, header: `Bearer` },
      { token: null, header: `Token ${secrets.merchantToken}` },
    ];
    for (const [method, body] of Object.entries(calls)) {
      for (const credentials of wrongTokens) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (credentials.header) headers['authorization'] = credentials.header;
        else if (credentials.token !== null && !credentials.inPath) headers['authorization'] = `Bearer ${credentials.token}`;
        const path = credentials.inPath ? `/api/v1/${method}/${credentials.token}` : `/api/v1/${method}`;
        const response = await fetch(`${shop.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        const answer = (await response.json()) as Record<string, unknown>;
        expect(response.status, `${method} with ${JSON.stringify(credentials)}`).toBe(401);
        if (method === 'send_template') expect(answer).toMatchObject({ error: { code: 190 } });
        else expect(answer).toEqual({ status: 'fail', message: expect.stringContaining('token') });
      }
    }
    await sleep(750);
    expect(JSON.stringify(await allOrders(shop.url))).toBe(ordersBefore);
    expect(await apiData(shop.url, 'getTask', { id: task.id })).toMatchObject({ status: 0 });
    expect(graph.requests.length).toBe(sendsBefore);
    expect(crm.requests.length).toBe(crmBefore);

    // The same calls with the token do change things: the bodies above were valid, the token was all that was missing.
    expect((await callApi(shop.url, 'updateOrderStatus', calls['updateOrderStatus'])).status).toBe(200);
    expect((await callApi(shop.url, 'removeTask', calls['removeTask'], { inPath: true })).status).toBe(200);
    expect((await callApi(shop.url, 'send_template', calls['send_template'])).status).toBe(200);
    expect((await allOrders(shop.url)).find((candidate) => candidate.id === order.id)?.status).toBe(30);
    await waitUntil(() => graph.requests.slice(sendsBefore).some((request) => recipientOf(request) === psid), 'the pushed message');
  });
});

describe('the logs of the whole run', () => {
  it('hold no token or secret, even where the platforms refuse, fail or cannot be reached', { timeout: 30_000 }, async () => {
    // The page token refused, a Telegram send refused and one cut off, the CRM failing: each logs.
    graph.fail({ ...graphFailures.invalidToken(), when: (request) => recipientOf(request) === '7700000000000003' });
    expect((await postWebhook(shop.url, 'messenger', messengerText('7700000000000003', 'hi'))).status).toBe(200);
    telegram.fail('sendMessage', { kind: 'unauthorized' });
    telegram.fail('sendMessage', { kind: 'drop' });
    expect((await postWebhook(shop.url, 'telegram', telegramText(7_700_002, 'hi'))).status).toBe(200);
    expect((await postWebhook(shop.url, 'telegram', telegramText(7_700_003, 'hi'))).status).toBe(200);
    crm.fail({ status: 500, times: 2 });
    for (const step of purchaseScript('7700000000000004', 'earl-grey-100', 'm_sec_buy2')) await postWebhook(shop.url, 'messenger', step);
    // The token in the path, on a request logged at debug.
    expect((await callApi(shop.url, 'listOrders', {}, { inPath: true })).status).toBe(200);
    // A Graph API that cannot be reached at all: the transport's errors carry the request URL.
    const unreachable = await startFaultServer({ graph }, { GRAPH_API_URL: 'http://127.0.0.1:9/v21.0', RETRY_BASE_MS: '5', RETRY_MAX_MS: '20' });
    try {
      expect((await postWebhook(unreachable.url, 'messenger', messengerText('7700000000000005', 'hi'))).status).toBe(200);
      await waitUntil(() => unreachable.logs.some((line) => line.includes('effect dead after all attempts')), 'the send to give up', 15_000);
    } finally {
      await unreachable.close();
    }
    await waitUntil(() => capturedLines().some((line) => line.includes('CRM notified')), 'the CRM notification after its failures');
    await waitUntil(() => telegram.calls('sendMessage').length >= 4, 'the Telegram sends');
    await sleep(300);

    const lines = capturedLines();
    for (const expected of ['the platform refused the channel credentials', 'CRM notification refused', 'effect dead after all attempts', '/api/v1/listOrders/[redacted]', 'Telegram']) {
      expect(lines.some((line) => line.includes(expected)), `a log line with "${expected}"`).toBe(true);
    }
    expect(lines.length).toBeGreaterThan(50);
    expect(leakedSecrets(lines)).toEqual([]);
  });

  it('and a refused configuration never echoes a secret', () => {
    const bad = {
      META_APP_SECRET: `${secrets.appSecret} spaced`,
      MESSENGER_PAGE_TOKEN: `${secrets.pageToken} spaced`,
      TELEGRAM_BOT_TOKEN: `${secrets.botToken}:extra:colons`,
      TELEGRAM_WEBHOOK_SECRET: `${secrets.webhookSecret}!`,
      MERCHANT_TOKEN: `${secrets.merchantToken} spaced`,
      CRM_SECRET: `${secrets.crmSecret} spaced`,
      WHATSAPP_TOKEN: `${secrets.whatsappToken} spaced`,
    };
    for (const [variable, value] of Object.entries(bad)) {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: 'memory:', [variable]: value });
      } catch (error) {
        message = error instanceof Error ? error.message : String(error);
      }
      expect(message, variable).toContain(variable);
      expect(secretNeedles.filter((needle) => message.includes(needle)), variable).toEqual([]);
    }
  });
});
