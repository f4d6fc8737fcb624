import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultTexts, texts } from '../../flows/messages.js';
import { defaultPushTexts } from '../../src/api/template-messages.js';
import { defaultPreCheckoutTexts } from '../../src/channels/telegram/payments.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/index.js';
import { expectDrainedOnClose } from './drained.js';
import { startFakeTelegram, telegramUpdates, type FakeTelegram, type SentMessage } from '../fakes/telegram-api.js';

const dir = mkdtempSync(join(tmpdir(), 'orderly-telegram-e2e-'));
const catalog = fileURLToPath(new URL('../fixtures/telegram/catalog.json', import.meta.url));
const secret = 'e2e_webhook-secret';
let databases = 0;
let fake: FakeTelegram | undefined;
let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close({ timeoutMs: 2_000 });
  await fake?.close();
  server = undefined;
  fake = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(
  mode: 'webhook' | 'polling',
  extra: Record<string, string> = {},
  options: StartOptions = {},
): Promise<{ fake: FakeTelegram; server: RunningServer }> {
  fake = await startFakeTelegram();
  server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, `e2e-${databases++}.db`)}`,
      CATALOG_FILE: catalog,
      LOG_LEVEL: 'silent',
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_MODE: mode,
      TELEGRAM_WEBHOOK_SECRET: secret,
      TELEGRAM_API_ROOT: fake.apiRoot,
      ...extra,
    }),
    options,
  );
  return { fake, server };
}

const post = (url: string, update: unknown, token = secret) =>
  fetch(`${url}/webhooks/telegram`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': token },
    body: JSON.stringify(update),
  });

/** A Telegram customer who reads what the fake received for their chat and taps its buttons. */
function customer(api: FakeTelegram, chatId: number) {
  let seen = 0;
  const buttonsOf = (message: SentMessage) => message.reply_markup?.inline_keyboard.flat() ?? [];
  return {
    say: (text: string) => api.push(telegramUpdates.text(chatId, text)),
    /** Waits for the next message to the chat matching `check`; skips those before it. */
    async next(check: (message: SentMessage) => boolean, what: string): Promise<SentMessage> {
      return api.waitFor(() => {
        const messages = api.messagesTo(chatId);
        const index = messages.findIndex((message, i) => i >= seen && check(message));
        if (index < 0) return undefined;
        seen = index + 1;
        return messages[index];
      }, what, 20_000);
    },
    /** Taps the button titled `title` on `on`, else on the newest message that has one. */
    tap(title: string, on?: SentMessage): string {
      const messages = on ? [on] : [...api.messagesTo(chatId)].reverse();
      const message = messages.find((m) => buttonsOf(m).some((button) => button.text === title));
      const data = message && buttonsOf(message).find((button) => button.text === title)?.callback_data;
      if (!message || !data) throw new Error(`no button "${title}" in ${JSON.stringify(api.messagesTo(chatId).map((m) => buttonsOf(m).map((b) => b.text)))}`);
      api.push(telegramUpdates.callback(chatId, message, data));
      return data;
    },
  };
}

const hasButton = (title: string) => (message: SentMessage) => message.reply_markup?.inline_keyboard.flat().some((button) => button.text === title) ?? false;

/** From /start to the receipt: two sencha, pickup, by the inline keyboards. */
async function buyTwoSencha(ana: ReturnType<typeof customer>): Promise<{ card: SentMessage; receipt: SentMessage }> {
  const { buttons } = texts;
  ana.say('/start');
  await ana.next(hasButton(buttons.browse), 'the menu');
  ana.tap(buttons.browse);
  await ana.next(hasButton(buttons.menu), 'the categories');
  ana.tap('Thés verts & infusions');
  const card = await ana.next((message) => message.caption?.startsWith('Sencha <Uji> & Co') ?? false, 'the sencha card');
  ana.tap(buttons.addToCart, card); // the teapot's card, after it, has the same button
  await ana.next(hasButton('2'), 'the quantity question');
  ana.tap('2');
  await ana.next(hasButton(buttons.checkout), 'the added line');
  ana.tap(buttons.checkout);
  await ana.next(hasButton(buttons.pickup), 'the delivery question');
  ana.tap(buttons.pickup);
  await ana.next((message) => message.text === texts.askRecipient, 'the recipient question');
  ana.say('Ana Lopez');
  await ana.next((message) => message.text?.startsWith('Which mobile') ?? false, 'the mobile question');
  ana.say('+34 600 123 456');
  await ana.next(hasButton(buttons.asap), 'the time question');
  ana.tap(buttons.asap);
  await ana.next(hasButton(buttons.confirm), 'the summary');
  ana.tap(buttons.confirm);
  const receipt = await ana.next((message) => /^Order #\d+\n/.test(message.text ?? ''), 'the receipt');
  return { card, receipt };
}

describe('Telegram through the real server, webhook mode', () => {
  it('refuses a wrong secret with 401 and stores nothing', async () => {
    const { fake, server } = await start('webhook');
    const update = { update_id: 1, ...telegramUpdates.text(4242, '/start') };
    expect((await post(server.url, update, 'wrong-secret')).status).toBe(401);
    expect((await post(server.url, update, '')).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.messagesTo(4242)).toHaveLength(0);
    // Had it been stored, the same update would now be a duplicate and get no answer.
    expect((await post(server.url, update)).status).toBe(200);
    await fake.waitFor(() => fake.messagesTo(4242)[0], 'the menu');
  });

  it('answers a duplicate update once: one reply, one callback answer', async () => {
    const { fake, server } = await start('webhook');
    const chatId = 4343;
    expect((await post(server.url, { update_id: 10, ...telegramUpdates.text(chatId, '/start') })).status).toBe(200);
    const menu = await fake.waitFor(() => fake.messagesTo(chatId).find(hasButton(texts.buttons.help)), 'the menu');
    const tap = { update_id: 11, ...telegramUpdates.callback(chatId, menu, 'help', 'cb-dup') };
    fake.push(tap); // opens the query at the fake
    expect((await post(server.url, tap)).status).toBe(200);
    expect((await post(server.url, tap)).status).toBe(200);
    await fake.waitFor(() => (fake.messagesTo(chatId).length >= 2 ? true : undefined), 'the help text');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(fake.messagesTo(chatId)).toHaveLength(2);
    expect(fake.calls('answerCallbackQuery').filter((call) => call.body.callback_query_id === 'cb-dup')).toHaveLength(1);
  });

  it('takes a customer from /start to the receipt by the inline keyboards', { timeout: 90_000 }, async () => {
    const { fake, server } = await start('webhook');
    fake.setWebhook(`${server.url}/webhooks/telegram`, secret);
    const ana = customer(fake, 777001);
    const { card, receipt } = await buyTwoSencha(ana);
    expect(card.photo).toBeDefined();
    expect(receipt.text).toContain('2 × Sencha <Uji> & Co, 100 g: €19.00');
    expect(receipt.text).toContain('Total: €19.00');

    const answered = fake.calls('answerCallbackQuery');
    expect(answered).toHaveLength(8);
    expect(new Set(answered.map((call) => call.body.callback_query_id)).size).toBe(answered.length);
    expect(answered.every((call) => call.status === 200)).toBe(true);
    expect(fake.pending).toHaveLength(0);
  });
});

describe('Telegram payments through the real server', () => {
  it('sends an invoice with the receipt, checks the pre-checkout and marks the order paid', { timeout: 60_000 }, async () => {
    const { fake, server } = await start('webhook', { TELEGRAM_PAYMENT_TOKEN: 'provider:test-token' });
    fake.setWebhook(`${server.url}/webhooks/telegram`, secret);
    const ana = customer(fake, 777002);
    const { receipt } = await buyTwoSencha(ana);
    const orderId = Number(/^Order #(\d+)/.exec(receipt.text!)![1]);
    const bill = await ana.next((message) => message.invoice !== undefined, 'the invoice');
    expect(bill.invoice).toMatchObject({ title: `Order #${orderId}`, currency: 'EUR', total_amount: 1900 });
    const sendInvoice = fake.calls('sendInvoice').at(-1)!;
    expect(sendInvoice.body).toMatchObject({ payload: `order:${orderId}`, provider_token: 'provider:test-token' });

    const invoice = { payload: `order:${orderId}`, currency: 'EUR', total: 1900 };
    fake.push(telegramUpdates.preCheckout(777002, { ...invoice, total: 1 }, 'pcq-wrong'));
    fake.push(telegramUpdates.preCheckout(777002, invoice, 'pcq-right'));
    const answers = await fake.waitFor(() => {
      const calls = fake.calls('answerPreCheckoutQuery');
      return calls.length === 2 ? calls : undefined;
    }, 'both pre-checkout answers', 10_000);
    const answer = (id: string) => answers.find((call) => call.body.pre_checkout_query_id === id)!.body;
    expect(answer('pcq-wrong')).toMatchObject({ ok: false });
    expect(answer('pcq-right')).toMatchObject({ ok: true });

    fake.push(telegramUpdates.successfulPayment(777002, invoice, 'charge-1'));
    const thanks = await ana.next((message) => message.text?.includes('payment') ?? false, 'the payment confirmation');
    expect(thanks.text).toBe(texts.paymentReceived(orderId, '€19.00'));
  });
});

describe("a shop's own words through startServer", () => {
  it('greets, refuses a payment and pushes a shipping update in them', { timeout: 60_000 }, async () => {
    const token = 'merchant-de-token';
    const { fake, server } = await start(
      'webhook',
      { TELEGRAM_PAYMENT_TOKEN: 'provider:test-token', MERCHANT_TOKEN: token },
      {
        texts: { ...defaultTexts, greeting: () => 'Hallo! Willkommen in unserem Laden.' },
        preCheckoutTexts: { ...defaultPreCheckoutTexts, unavailable: 'Diese Bestellung gibt es nicht mehr.' },
        pushTexts: { ...defaultPushTexts, locale: 'de', greeting: (name) => `Hallo ${name}!`, packageStatus: (number, status) => `Paket ${number}: ${status}.` },
      },
    );
    fake.setWebhook(`${server.url}/webhooks/telegram`, secret);
    const ana = customer(fake, 777003);

    ana.say('hello');
    expect((await ana.next(() => true, 'the greeting')).text).toBe('Hallo! Willkommen in unserem Laden.');

    fake.push(telegramUpdates.preCheckout(777003, { payload: 'order:999999', currency: 'EUR', total: 100 }, 'pcq-gone'));
    const [refusal] = await fake.waitFor(() => {
      const calls = fake.calls('answerPreCheckoutQuery');
      return calls.length === 1 ? calls : undefined;
    }, 'the pre-checkout answer', 10_000);
    expect(refusal!.body).toMatchObject({ pre_checkout_query_id: 'pcq-gone', ok: false, error_message: 'Diese Bestellung gibt es nicht mehr.' });

    const response = await fetch(`${server.url}/api/v1/send_template`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        request: { method: 'send_template', id: 'push-de-1', template_name: 'Shipping Status Update Push' },
        recipient: { id: '777003' },
        params: { package_number: '1Z999', package_status: 'Versandt', fb_first_name: 'Ana' },
      }),
    });
    expect(response.status).toBe(200);
    expect((await ana.next(() => true, 'the shipping update')).text).toContain('Hallo Ana!\nPaket 1Z999: Versandt.');
  });
});

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe('TELEGRAM_WEBHOOK_URL', () => {
  it('registers the webhook with its secret at start, and Telegram then posts the updates there', async () => {
    const port = await freePort();
    // A query the route ignores; a key in it stays out of the log.
    const url = `http://127.0.0.1:${port}/webhooks/telegram?key=kept-out-of-logs`;
    const lines: string[] = [];
    const capture = (level: string) => (object: object, message?: string) => void lines.push(JSON.stringify({ level, message, ...object }));
    const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    const { fake } = await start('webhook', { PORT: String(port), TELEGRAM_WEBHOOK_URL: url }, { logger });
    expect(fake.calls('setWebhook').map((call) => call.body)).toEqual([
      { url, secret_token: secret, allowed_updates: ['message', 'callback_query', 'pre_checkout_query'] },
    ]);
    fake.push(telegramUpdates.text(5252, 'hello'));
    const reply = await fake.waitFor(() => fake.messagesTo(5252)[0], 'the reply', 15_000);
    expect(reply.text).toContain('What would you like to do?');
    expect(lines.filter((line) => line.includes('Telegram webhook registered'))).toEqual([
      JSON.stringify({ level: 'info', message: 'Telegram webhook registered', channel: 'telegram', url: `http://127.0.0.1:${port}/webhooks/telegram` }),
    ]);
    expect(lines.join('\n')).not.toContain('kept-out-of-logs');
  });

  it('stops the start with the reason when Telegram refuses the URL', async () => {
    await expect(start('webhook', { TELEGRAM_WEBHOOK_URL: 'https://shop.invalid/webhooks/telegram' })).rejects.toMatchObject({
      code: 'CHANNEL',
      message: expect.stringContaining('bad webhook: Failed to resolve host'),
    });
  });
});

describe('Telegram through the real server, polling mode', () => {
  it('answers a message pushed to getUpdates', async () => {
    const { fake } = await start('polling');
    fake.push(telegramUpdates.text(5151, 'hello'));
    const reply = await fake.waitFor(() => fake.messagesTo(5151)[0], 'the reply', 15_000);
    expect(reply.text).toContain('What would you like to do?');
    expect(reply.reply_markup?.inline_keyboard.flat().map((button) => button.text)).toContain(texts.buttons.browse);
    await fake.waitFor(() => (fake.pending.length === 0 ? true : undefined), 'the update confirmed', 5_000);
  });
});

describe('Telegram on a clean shutdown', () => {
  it('sends the replies the drain still has, on connections it has not closed yet', async () => {
    const dbFile = join(dir, 'drain.db');
    const { fake, server } = await start('webhook', { DATABASE_URL: `sqlite:${dbFile}` });
    // Each send takes a while: the close begins before the first reply went out.
    fake.fail('*', { kind: 'slow', ms: 150 }, Infinity);
    const chatId = 5150;
    expect((await post(server.url, { update_id: 1, ...telegramUpdates.text(chatId, '/start') })).status).toBe(200);
    await expectDrainedOnClose(server, dbFile, { channel: 'telegram', account: String(fake.botId), user: String(chatId) }, () =>
      fake.requests.filter((request) => String((request.body as { chat_id?: unknown }).chat_id) === String(chatId)).map((request) => request.status),
    );
  });
});
