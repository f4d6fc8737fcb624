import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { expectDrainedOnClose } from './drained.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi, type RecordedRequest } from '../fakes/graph-api.js';

/**
 * The real server, with Messenger switched on and pointed at the fake Graph API, driven by
 * signed webhooks built from the fixtures: what a customer does, end to end.
 */

const appSecret = 'e2e_app_secret';
const pageToken = 'e2e-page-token';
const page = '106540352242922';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/messenger/${name}.json`, import.meta.url), 'utf8')) as T;

interface Messaging {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
  message?: { mid: string; text: string; quick_reply?: { payload: string } };
  postback?: { title: string; payload: string; mid: string };
}
interface Webhook {
  object: 'page';
  entry: { id: string; time: number; messaging: Messaging[] }[];
}

let seq = 0;

/** A webhook like the fixture `name`, from `psid`, with a fresh mid and the time now. */
function webhook(name: 'text_message' | 'quick_reply' | 'postback', psid: string, change: (event: Messaging, mid: string) => void): Webhook {
  const body = fixture<Webhook>(name);
  const entry = body.entry[0]!;
  const event = entry.messaging[0]!;
  const mid = `m_e2e_${process.pid}_${++seq}`;
  entry.time = Date.now();
  event.timestamp = Date.now();
  event.sender.id = psid;
  change(event, mid);
  return body;
}

const text = (psid: string, words: string) =>
  webhook('text_message', psid, (event, mid) => {
    event.message = { mid, text: words };
  });
const quickReply = (psid: string, title: string, payload: string) =>
  webhook('quick_reply', psid, (event, mid) => {
    event.message = { mid, text: title, quick_reply: { payload } };
  });
const postback = (psid: string, title: string, payload: string) =>
  webhook('postback', psid, (event, mid) => {
    event.postback = { title, payload, mid };
  });

/** The server's configuration: Messenger on, pointed at the fake Graph API, SQLite at `dbFile`. */
const messengerConfig = (dbFile: string, graphUrl: string) =>
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${dbFile}`,
    LOG_LEVEL: 'silent',
    META_APP_SECRET: appSecret,
    META_VERIFY_TOKEN: 'e2e-verify',
    GRAPH_API_URL: graphUrl,
    MESSENGER_PAGE_TOKEN: pageToken,
  });

const sign = (raw: string, secret = appSecret) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

describe('Messenger end to end', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  let dir: string;
  let dbFile: string;

  beforeAll(async () => {
    graph = await startFakeGraphApi({ pageToken });
    dir = mkdtempSync(join(tmpdir(), 'orderly-messenger-e2e-'));
    dbFile = join(dir, 'orderly.db');
    server = await startServer(messengerConfig(dbFile, graph.url));
  });

  afterAll(async () => {
    await server?.close({ timeoutMs: 2_000 });
    await graph?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** POSTs a body signed with the app secret (or the given signature) as raw bytes. */
  async function deliver(body: unknown, signature?: string): Promise<Response> {
    const raw = JSON.stringify(body);
    return fetch(`${server.url}/webhooks/messenger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(raw) },
      body: raw,
    });
  }

  /** The Send API requests to `psid` after the first `since`, once they stop coming. */
  async function repliesTo(psid: string, since: number, atLeast = 1): Promise<RecordedRequest[]> {
    const to = (request: RecordedRequest) => request.kind === 'messenger' && (request.body as { recipient?: { id?: string } }).recipient?.id === psid;
    await graph.waitFor(to, since + atLeast, 15_000);
    let count = graph.requests.filter(to).length;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = graph.requests.filter(to).length;
      if (now === count) break;
      count = now;
    }
    return graph.requests.filter(to).slice(since);
  }

  const sentTo = (psid: string) =>
    graph.requests.filter((request) => request.kind === 'messenger' && (request.body as { recipient?: { id?: string } }).recipient?.id === psid);

  /** Every choice the replies offer: quick replies, and postback buttons of templates. */
  function choices(requests: readonly RecordedRequest[]): { title: string; payload: string; via: 'quick' | 'postback' }[] {
    const found: { title: string; payload: string; via: 'quick' | 'postback' }[] = [];
    for (const request of requests) {
      const message = (request.body as { message?: Record<string, unknown> }).message;
      if (!message) continue;
      for (const reply of (message['quick_replies'] ?? []) as { title: string; payload: string }[]) found.push({ ...reply, via: 'quick' });
      const payload = (message['attachment'] as { payload?: { buttons?: unknown[]; elements?: { buttons?: unknown[] }[] } } | undefined)?.payload;
      const buttons = [...(payload?.buttons ?? []), ...(payload?.elements ?? []).flatMap((element) => element.buttons ?? [])];
      for (const button of buttons as { type: string; title: string; payload?: string }[]) {
        if (button.type === 'postback' && button.payload) found.push({ title: button.title, payload: button.payload, via: 'postback' });
      }
    }
    return found;
  }

  /** Taps the first choice whose payload starts with `prefix`, the way Messenger reports it; answers the replies. */
  async function tap(psid: string, replies: readonly RecordedRequest[], prefix: string): Promise<RecordedRequest[]> {
    const choice = choices(replies).find((option) => option.payload.startsWith(prefix));
    if (!choice) throw new Error(`no choice "${prefix}…" among ${JSON.stringify(choices(replies).map((option) => option.payload))}`);
    const since = sentTo(psid).length;
    const body = choice.via === 'quick' ? quickReply(psid, choice.title, choice.payload) : postback(psid, choice.title, choice.payload);
    expect((await deliver(body)).status).toBe(200);
    return repliesTo(psid, since);
  }

  async function say(psid: string, words: string): Promise<RecordedRequest[]> {
    const since = sentTo(psid).length;
    expect((await deliver(text(psid, words))).status).toBe(200);
    return repliesTo(psid, since);
  }

  it('answers the subscription handshake with the challenge, and 403 to a wrong token', async () => {
    const ok = await fetch(`${server.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${server.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  it('acknowledges a signed webhook with EVENT_RECEIVED', async () => {
    const response = await deliver(text('7000000000000001', 'hello'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('EVENT_RECEIVED');
    await repliesTo('7000000000000001', 0);
  });

  it('takes a customer from the first message to the receipt', async () => {
    const psid = '7000000000000002';
    let replies = await say(psid, 'Hi');
    expect(choices(replies).map((choice) => choice.payload)).toContain('browse');
    replies = await tap(psid, replies, 'browse');
    replies = await tap(psid, replies, 'cat:');
    expect(replies.some((request) => JSON.stringify(request.body).includes('"template_type":"generic"'))).toBe(true);
    replies = await tap(psid, replies, 'add:');
    replies = await tap(psid, replies, 'qty:');
    replies = await tap(psid, replies, 'checkout');
    replies = await tap(psid, replies, 'delivery:pickup');
    replies = await say(psid, 'Ana Lopez');
    replies = await say(psid, '+34 600 111 222');
    replies = await tap(psid, replies, 'time:');
    await tap(psid, replies, 'confirm');
    // The order's own actor sends the receipt, once the order exists.
    const [receipt] = await graph.waitFor(
      (request) => JSON.stringify(request.body).includes('"template_type":"receipt"') && (request.body as { recipient: { id: string } }).recipient.id === psid,
    );
    const payload = (receipt?.body as { messaging_type: string; message: { attachment: { payload: Record<string, unknown> } } }).message.attachment.payload;
    expect((receipt?.body as { messaging_type: string }).messaging_type).toBe('RESPONSE');
    expect(payload).toMatchObject({ recipient_name: 'Ana Lopez', currency: 'EUR', summary: { total_cost: expect.any(Number) } });
    expect(receipt?.status).toBe(200);
    // Every request carried the page token, and every one was accepted within the Send API's limits.
    expect(sentTo(psid).every((request) => request.query['access_token'] === pageToken && request.status === 200)).toBe(true);
  });

  it('answers a webhook delivered twice only once', async () => {
    const psid = '7000000000000003';
    const body = text(psid, 'Hi');
    expect((await deliver(body)).status).toBe(200);
    const first = await repliesTo(psid, 0);
    expect((await deliver(body)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(sentTo(psid)).toHaveLength(first.length);
  });

  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const psid = '7000000000000004';
    const body = text(psid, 'Hi');
    const raw = JSON.stringify(body);
    expect((await deliver(body, sign(raw, 'not the app secret'))).status).toBe(401);
    expect((await deliver(body, 'sha256=00')).status).toBe(401);
    const unsigned = await fetch(`${server.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    expect(unsigned.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sentTo(psid)).toHaveLength(0);
    // Nothing was stored: the same event, signed, is new to the inbox and answered.
    expect((await deliver(body)).status).toBe(200);
    expect((await repliesTo(psid, 0)).length).toBeGreaterThan(0);
  });

  it('retries a failing platform until the message is delivered', async () => {
    const psid = '7000000000000005';
    graph.fail({ ...graphFailures.serverError(), times: 2, when: (request) => JSON.stringify(request.body).includes(psid) });
    expect((await deliver(text(psid, 'Hi'))).status).toBe(200);
    const replies = await repliesTo(psid, 0, 3);
    expect(replies.slice(0, 3).map((request) => request.status)).toEqual([500, 500, 200]);
    expect(replies[2]?.body).toEqual(replies[0]?.body);
  });

  it('records a permanent error as failed and does not retry it', async () => {
    const psid = '7000000000000006';
    graph.fail({ ...graphFailures.userUnavailable(), times: Infinity, when: (request) => JSON.stringify(request.body).includes(psid) });
    expect((await deliver(text(psid, 'Hi'))).status).toBe(200);
    const replies = await repliesTo(psid, 0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sentTo(psid)).toHaveLength(replies.length);
    expect(replies.every((request) => request.status === 400)).toBe(true);
  });

  it('keeps the message log: platform ids of sent messages, the code of failed ones', async () => {
    await server.close({ timeoutMs: 2_000 });
    const store = await openSqliteStore(dbFile);
    try {
      const sent = await store.messagesTo({ channel: 'messenger', account: page, user: '7000000000000005' }, 0, 100);
      expect(sent[0]).toMatchObject({ status: 'sent', platformId: (graph.requests.find((r) => r.status === 200 && JSON.stringify(r.body).includes('7000000000000005'))?.answer as { message_id: string }).message_id });
      const failed = await store.messagesTo({ channel: 'messenger', account: page, user: '7000000000000006' }, 0, 100);
      expect(failed[0]).toMatchObject({ status: 'failed' });
      expect(failed[0]?.error).toContain('551');
    } finally {
      await store.close();
    }
  });
});

describe('Messenger on a clean shutdown', () => {
  it('sends the replies the drain still has, on connections it has not closed yet', async () => {
    const graph = await startFakeGraphApi({ pageToken });
    const dir = mkdtempSync(join(tmpdir(), 'orderly-messenger-drain-'));
    const dbFile = join(dir, 'orderly.db');
    try {
      const server = await startServer(messengerConfig(dbFile, graph.url));
      // Each send takes a while: the close begins before the first reply went out.
      graph.fail({ ...graphFailures.slow(150), times: Infinity });
      const psid = '7000000000000100';
      const raw = JSON.stringify(text(psid, 'Hi'));
      const answer = await fetch(`${server.url}/webhooks/messenger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) },
        body: raw,
      });
      expect(answer.status).toBe(200);
      await expectDrainedOnClose(server, dbFile, { channel: 'messenger', account: page, user: psid }, () =>
        graph.requests.filter((request) => JSON.stringify(request.body).includes(psid)).map((request) => request.status),
      );
    } finally {
      await graph.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
