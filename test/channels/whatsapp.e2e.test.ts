import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { expectDrainedOnClose } from './drained.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi, type RecordedRequest } from '../fakes/graph-api.js';

/**
 * The real server, with WhatsApp switched on (a catalog configured) and pointed at the fake
 * Graph API, driven by signed webhooks built from the Cloud API and On-Premises fixtures.
 */

const appSecret = 'e2e_app_secret';
const token = 'e2e-wa-token';
const phoneNumberId = '106540352242922';
const catalogId = '194836987003835';

/** Products whose articles are the fixtures' retailer ids. */
const catalog = [
  {
    id: 'linen-shirt-m',
    article: 'SKU-LINEN-SHIRT-M',
    title: 'Linen shirt (M)',
    description: '100% linen, white or sand.',
    price: '25.00',
    currency: 'USD',
    image_url: 'https://shop.example.com/img/linen-shirt.png',
    category: 'Shirts',
    stock: 50,
  },
  {
    id: 'blue-mug',
    article: 'SKU-BLUE-MUG',
    title: 'Blue mug, 350 ml',
    description: 'Stoneware.',
    price: '12.50',
    currency: 'USD',
    image_url: 'https://shop.example.com/img/blue-mug.png',
    category: 'Kitchen',
    stock: 50,
  },
];

type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Json;

let seq = 0;

/** The fixture's first message (Cloud API shape), from `waId`, with a fresh wamid and the time now. */
function cloud(name: string, waId: string, change: (message: Json) => void = () => {}): Json {
  const body = fixture(`whatsapp/${name}`) as { entry: { changes: { value: { contacts?: Json[]; messages: Json[] } }[] }[] };
  const value = body.entry[0]!.changes[0]!.value;
  const message = value.messages[0]!;
  message['id'] = `wamid.e2e.${process.pid}.${++seq}`;
  message['from'] = waId;
  message['timestamp'] = String(Math.floor(Date.now() / 1000));
  if (value.contacts?.[0]) value.contacts[0]['wa_id'] = waId;
  change(message);
  return body as unknown as Json;
}

/** The server's configuration: WhatsApp only, on SQLite at `dbFile`, against the fake at `graphUrl`. */
const whatsappConfig = (dbFile: string, catalogFile: string, graphUrl: string) =>
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${dbFile}`,
    CATALOG_FILE: catalogFile,
    LOG_LEVEL: 'silent',
    META_APP_SECRET: appSecret,
    META_VERIFY_TOKEN: 'e2e-verify',
    GRAPH_API_URL: graphUrl,
    WHATSAPP_TOKEN: token,
    WHATSAPP_PHONE_NUMBER_ID: phoneNumberId,
    WHATSAPP_CATALOG_ID: catalogId,
  });

const sign = (raw: string, secret = appSecret) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

describe('WhatsApp end to end', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  let dir: string;
  let dbFile: string;

  beforeAll(async () => {
    graph = await startFakeGraphApi({ whatsappToken: token });
    dir = mkdtempSync(join(tmpdir(), 'orderly-whatsapp-e2e-'));
    dbFile = join(dir, 'orderly.db');
    const catalogFile = join(dir, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify(catalog));
    server = await startServer(whatsappConfig(dbFile, catalogFile, graph.url));
  });

  afterAll(async () => {
    await server?.close({ timeoutMs: 2_000 });
    await graph?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function deliver(body: unknown, signature?: string): Promise<Response> {
    const raw = JSON.stringify(body);
    return fetch(`${server.url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(raw) },
      body: raw,
    });
  }

  const isTo = (waId: string) => (request: RecordedRequest) => request.kind === 'whatsapp' && (request.body as { to?: string }).to === waId;
  const sentTo = (waId: string) => graph.requests.filter(isTo(waId));

  /** The Cloud API requests to `waId` after the first `since`, once they stop coming. */
  async function repliesTo(waId: string, since: number, atLeast = 1): Promise<RecordedRequest[]> {
    await graph.waitFor(isTo(waId), since + atLeast, 15_000);
    let count = sentTo(waId).length;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (sentTo(waId).length === count) break;
      count = sentTo(waId).length;
    }
    return sentTo(waId).slice(since);
  }

  /** Reply buttons and list rows the replies offer. */
  function choices(requests: readonly RecordedRequest[]): { id: string; title: string; via: 'button_reply' | 'list_reply' }[] {
    const found: { id: string; title: string; via: 'button_reply' | 'list_reply' }[] = [];
    for (const request of requests) {
      const interactive = (request.body as { interactive?: { type: string; action: Json } }).interactive;
      if (interactive?.type === 'button') {
        for (const button of interactive.action['buttons'] as { reply: { id: string; title: string } }[]) found.push({ ...button.reply, via: 'button_reply' });
      } else if (interactive?.type === 'list') {
        for (const section of interactive.action['sections'] as { rows: { id: string; title: string }[] }[]) {
          for (const row of section.rows) found.push({ id: row.id, title: row.title, via: 'list_reply' });
        }
      }
    }
    return found;
  }

  async function tap(waId: string, replies: readonly RecordedRequest[], prefix: string): Promise<RecordedRequest[]> {
    const choice = choices(replies).find((option) => option.id.startsWith(prefix));
    if (!choice) throw new Error(`no choice "${prefix}…" among ${JSON.stringify(choices(replies).map((option) => option.id))}`);
    const since = sentTo(waId).length;
    const name = choice.via === 'button_reply' ? 'interactive_button_reply' : 'interactive_list_reply';
    const body = cloud(name, waId, (message) => {
      message['interactive'] = { type: choice.via, [choice.via]: { id: choice.id, title: choice.title } };
    });
    expect((await deliver(body)).status).toBe(200);
    return repliesTo(waId, since);
  }

  async function say(waId: string, words: string): Promise<RecordedRequest[]> {
    const since = sentTo(waId).length;
    expect((await deliver(cloud('text_message', waId, (message) => (message['text'] = { body: words })))).status).toBe(200);
    return repliesTo(waId, since);
  }

  it('answers the subscription handshake with the challenge', async () => {
    const ok = await fetch(`${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=abc123`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('abc123');
  });

  it('answers a text, with the Bearer token, to the configured phone number', async () => {
    const replies = await say('34600000001', 'Hi, do you ship to Madrid?');
    expect(replies[0]?.path).toBe(`${new URL(graph.url).pathname}/${phoneNumberId}/messages`);
    expect(replies.every((request) => request.headers.authorization === `Bearer ${token}` && request.status === 200)).toBe(true);
  });

  it('answers a product question with that product from the catalog', async () => {
    const waId = '34600000002';
    expect((await deliver(cloud('product_question', waId))).status).toBe(200);
    const replies = await repliesTo(waId, 0);
    const product = replies.find((request) => (request.body as { interactive?: { type: string } }).interactive?.type === 'product');
    expect(product?.body).toMatchObject({
      to: waId,
      type: 'interactive',
      interactive: { type: 'product', action: { catalog_id: catalogId, product_retailer_id: 'SKU-LINEN-SHIRT-M' } },
    });
  });

  it('turns a sent cart into an order, with the receipt at the end', async () => {
    const waId = '34600000003';
    expect((await deliver(cloud('order', waId))).status).toBe(200);
    let replies = await repliesTo(waId, 0);
    replies = await tap(waId, replies, 'delivery:pickup');
    replies = await say(waId, 'Ana Lopez');
    replies = await say(waId, '+34 600 111 222');
    replies = await tap(waId, replies, 'time:');
    expect(JSON.stringify(replies)).toContain('62.50');
    await tap(waId, replies, 'confirm');
    const [receipt] = await graph.waitFor((request) => isTo(waId)(request) && /"body":"\*Order #\d+\*/.test(JSON.stringify(request.body)));
    const body = (receipt?.body as { text: { body: string } }).text.body;
    expect(body).toContain('Linen shirt (M)');
    expect(body).toContain('Blue mug, 350 ml');
    expect(body).toContain('62.50');
    expect(receipt?.status).toBe(200);
  });

  it('reads the On-Premises shape', async () => {
    const body = fixture('whatsapp-onprem/text_message') as { contacts: Json[]; messages: Json[] };
    body.messages[0]!['id'] = `ABGG-e2e-${++seq}`;
    body.messages[0]!['from'] = '34600000004';
    body.messages[0]!['timestamp'] = String(Math.floor(Date.now() / 1000));
    expect((await deliver(body)).status).toBe(200);
    expect((await repliesTo('34600000004', 0)).length).toBeGreaterThan(0);
  });

  it('accepts status webhooks', async () => {
    const [sent] = sentTo('34600000001');
    const id = (sent?.answer as { messages: { id: string }[] }).messages[0]!.id;
    const body = fixture('whatsapp/status_delivered') as { entry: { changes: { value: { statuses: Json[] } }[] }[] };
    Object.assign(body.entry[0]!.changes[0]!.value.statuses[0]!, { id, recipient_id: '34600000001', timestamp: String(Math.floor(Date.now() / 1000)) });
    expect((await deliver(body)).status).toBe(200);
    expect((await deliver(fixture('whatsapp/value_level_error'))).status).toBe(200);
  });

  it('answers a webhook delivered twice only once', async () => {
    const waId = '34600000005';
    const body = cloud('text_message', waId);
    expect((await deliver(body)).status).toBe(200);
    const first = await repliesTo(waId, 0);
    expect((await deliver(body)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(sentTo(waId)).toHaveLength(first.length);
  });

  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const waId = '34600000006';
    const body = cloud('text_message', waId);
    expect((await deliver(body, sign(JSON.stringify(body), 'another secret'))).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sentTo(waId)).toHaveLength(0);
    expect((await deliver(body)).status).toBe(200);
    expect((await repliesTo(waId, 0)).length).toBeGreaterThan(0);
  });

  it('retries a throttled platform until the message is delivered', async () => {
    const waId = '34600000007';
    graph.fail({ ...graphFailures.rateLimited(1), times: 1, when: (request) => JSON.stringify(request.body).includes(waId) });
    graph.fail({ ...graphFailures.serverError(), times: 1, when: (request) => JSON.stringify(request.body).includes(waId) });
    expect((await deliver(cloud('text_message', waId))).status).toBe(200);
    const replies = await repliesTo(waId, 0, 3);
    expect(replies.slice(0, 3).map((request) => request.status)).toEqual([429, 500, 200]);
    // The second try waited for the platform's Retry-After (1 s).
    expect((replies[1]?.at ?? 0) - (replies[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('records an undeliverable message as failed without retrying it', async () => {
    const waId = '34600000008';
    graph.fail({ ...graphFailures.undeliverable(), times: Infinity, when: (request) => JSON.stringify(request.body).includes(waId) });
    expect((await deliver(cloud('text_message', waId))).status).toBe(200);
    const replies = await repliesTo(waId, 0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sentTo(waId)).toHaveLength(replies.length);
    await server.close({ timeoutMs: 2_000 });
    const store = await openSqliteStore(dbFile);
    try {
      const [failed] = await store.messagesTo({ channel: 'whatsapp', account: phoneNumberId, user: waId }, 0, 100);
      expect(failed).toMatchObject({ status: 'failed' });
      expect(failed?.error).toContain('131026');
      const [sent] = await store.messagesTo({ channel: 'whatsapp', account: phoneNumberId, user: '34600000007' }, 0, 100);
      const delivered = graph.requests.find((request) => request.status === 200 && isTo('34600000007')(request));
      expect(sent).toMatchObject({ status: 'sent', platformId: (delivered?.answer as { messages: { id: string }[] }).messages[0]?.id });
    } finally {
      await store.close();
    }
  });
});

describe('WhatsApp on a clean shutdown', () => {
  it('sends the replies the drain still has, on connections it has not closed yet', async () => {
    const graph = await startFakeGraphApi({ whatsappToken: token });
    const dir = mkdtempSync(join(tmpdir(), 'orderly-whatsapp-drain-'));
    const dbFile = join(dir, 'orderly.db');
    const catalogFile = join(dir, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify(catalog));
    try {
      const server = await startServer(whatsappConfig(dbFile, catalogFile, graph.url));
      // Each send takes a while: the close begins before the first reply went out.
      graph.fail({ ...graphFailures.slow(150), times: Infinity });
      const waId = '15550000100';
      const raw = JSON.stringify(cloud('text_message', waId, (message) => (message['text'] = { body: 'Hi' })));
      const answer = await fetch(`${server.url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) },
        body: raw,
      });
      expect(answer.status).toBe(200);
      await expectDrainedOnClose(server, dbFile, { channel: 'whatsapp', account: phoneNumberId, user: waId }, () =>
        graph.requests.filter((request) => request.kind === 'whatsapp' && (request.body as { to?: string }).to === waId).map((request) => request.status),
      );
    } finally {
      await graph.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
