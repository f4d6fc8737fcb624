import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import {
  capturedLines,
  leakedSecrets,
  messengerTextOf,
  page,
  postWebhook,
  requestsTo,
  searchEcho,
  secrets,
  sleep,
  startFaultServer,
  telegramText,
  whatsappText,
  type FaultServer,
  type WebhookName,
} from './harness.js';

/**
 * Found by the bad-input fuzz: the platforms' parsers accept values the engine's event
 * schema refuses (ids over 512 characters, a page or phone number id over 128, a time that
 * is not a whole non-negative number of ms). Such an event must be skipped and counted,
 * while the valid events signed in the same delivery are stored and answered: refusing the
 * whole delivery would make the platform redeliver it forever.
 */

let graph: FakeGraphApi;
let telegram: FakeTelegram;
let shop: FaultServer;

beforeAll(async () => {
  graph = await startFakeGraphApi({ pageToken: secrets.pageToken, whatsappToken: secrets.whatsappToken });
  telegram = await startFakeTelegram({ token: secrets.botToken });
  shop = await startFaultServer({ graph, telegram });
});

afterAll(async () => {
  await shop?.close();
  await Promise.all([graph?.close(), telegram?.close()]);
  expect(leakedSecrets(capturedLines())).toEqual([]);
});

const now = Date.now();
const messaging = (psid: string, fields: Record<string, unknown>) => ({ sender: { id: psid }, recipient: { id: page }, timestamp: now, ...fields });
/** A Messenger batch: a valid search from `psid`, then (unless it is the control) the odd event. */
const messengerBatch = (psid: string, odd: Record<string, unknown>, entryTime: number = now) => (word: string, withOdd: boolean) => ({
  object: 'page',
  entry: [{ id: page, time: entryTime, messaging: [messaging(psid, { message: { mid: `m_ok_${word}`, text: `search ${word}` } }), ...(withOdd ? [odd] : [])] }],
});

type WhatsAppBody = { entry: { changes: { value: Record<string, unknown> }[] }[] };
/** A WhatsApp delivery: a valid search from `waId`, and (unless it is the control) `odd` applied to it. */
const whatsappBatch = (waId: string, odd: (body: WhatsAppBody) => void) => (word: string, withOdd: boolean) => {
  const body = whatsappText(waId, `search ${word}`, `wamid.ok_${word}`) as WhatsAppBody;
  if (withOdd) odd(body);
  return body;
};

interface Case {
  readonly name: string;
  readonly channel: WebhookName;
  /** The delivery, with the odd event or (the control) without it. */
  readonly body: (word: string, withOdd: boolean) => unknown;
  /** Whose valid message must be answered. */
  readonly to: string;
}

const cases: Case[] = [
  {
    name: 'Messenger: a message whose mid is 600 characters',
    channel: 'messenger',
    body: messengerBatch('7800000000000001', messaging('7800000000000091', { message: { mid: 'm'.repeat(600), text: 'hi' } })),
    to: '7800000000000001',
  },
  {
    name: 'Messenger: a message to a page id of 200 digits',
    channel: 'messenger',
    body: messengerBatch('7800000000000002', { ...messaging('7800000000000092', { message: { mid: 'm_odd_2', text: 'hi' } }), recipient: { id: '9'.repeat(200) } }),
    to: '7800000000000002',
  },
  {
    name: 'Messenger: a delivery receipt naming a 510-character mid',
    channel: 'messenger',
    body: messengerBatch('7800000000000003', messaging('7800000000000003', { delivery: { mids: ['d'.repeat(510)], watermark: now } })),
    to: '7800000000000003',
  },
  {
    // The valid event carries its own timestamp; the odd one falls back to the entry's time.
    name: 'Messenger: an event without a timestamp in an entry whose time is 1.5',
    channel: 'messenger',
    body: messengerBatch('7800000000000004', { sender: { id: '7800000000000094' }, recipient: { id: page }, message: { mid: 'm_odd_4', text: 'hi' } }, 1.5),
    to: '7800000000000004',
  },
  {
    name: 'WhatsApp: a status whose message id is 510 characters',
    channel: 'whatsapp',
    body: whatsappBatch('34678000005', (body) => {
      body.entry[0]!.changes[0]!.value['statuses'] = [{ id: 'w'.repeat(510), status: 'delivered', timestamp: '1767225600', recipient_id: '34678000005' }];
    }),
    to: '34678000005',
  },
  {
    name: 'WhatsApp: a change from a phone number id of 200 digits',
    channel: 'whatsapp',
    body: whatsappBatch('34678000006', (body) => {
      const odd = JSON.parse(JSON.stringify(body.entry[0]!.changes[0])) as { value: { metadata: { phone_number_id: string }; messages: { id: string }[] } };
      odd.value.metadata.phone_number_id = '1'.repeat(200);
      odd.value.messages[0]!.id = 'wamid.odd_6';
      body.entry[0]!.changes.push(odd as never);
    }),
    to: '34678000006',
  },
  {
    // One update per delivery: Telegram redelivers a refused one, and the updates behind it wait.
    name: 'Telegram: an update dated before 1970',
    channel: 'telegram',
    body: (word, withOdd) => {
      const update = telegramText(7_800_007, `search ${word}`, withOdd ? 78_008 : 78_007);
      return withOdd ? { ...update, message: { ...(update['message'] as object), date: -5 } } : update;
    },
    to: '7800007',
  },
];

const acks: Record<WebhookName, string> = { messenger: 'EVENT_RECEIVED', whatsapp: 'OK', telegram: 'ok' };

/** Whether the customer was answered the search for `word`, within 5 s. */
async function answered(channel: WebhookName, to: string, word: string): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const texts =
      channel === 'telegram'
        ? telegram.messagesTo(Number(to)).map((message) => message.text)
        : requestsTo(graph, to).map((request) => (channel === 'messenger' ? messengerTextOf(request) : JSON.stringify(request.body).replaceAll('\\"', '"')));
    if (texts.some((text) => searchEcho(text) === word)) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

describe('a signed delivery holding one event the engine cannot store', () => {
  for (const { name, channel, body, to } of cases) {
    // The control: the same delivery without the odd event is acknowledged and answered.
    it(`is answered without the odd event (control) — ${name}`, { timeout: 15_000 }, async () => {
      const word = `ctl${to.slice(-2)}`;
      expect(await postWebhook(shop.url, channel, body(word, false))).toMatchObject({ status: 200, text: acks[channel] });
      expect(await answered(channel, to, word)).toBe(true);
    });

    it(`is acknowledged, the odd event ignored, the others answered — ${name}`, { timeout: 15_000 }, async () => {
      const word = `odd${to.slice(-2)}`;
      expect(await postWebhook(shop.url, channel, body(word, true))).toMatchObject({ status: 200, text: acks[channel] });
      if (channel !== 'telegram') expect(await answered(channel, to, word)).toBe(true);
    });
  }
});
