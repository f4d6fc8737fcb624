import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config.js';
import { createLogger, type PinoLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import type { FakeCrm } from '../fakes/crm.js';
import type { FakeGraphApi, RecordedRequest } from '../fakes/graph-api.js';
import type { FakeTelegram } from '../fakes/telegram-api.js';

/**
 * What the fault suite (test/faults, chaos/) shares: the secrets every server runs with
 * (distinctive, so a leak into a log line is found by a plain substring search), logs
 * captured through the server's own pino logger, the real server started in process against
 * the fakes, signed webhooks of the three platforms, and a merchant API client. No vitest
 * import: `npm run chaos` uses it outside the test runner.
 */

/** The Messenger page and the WhatsApp phone number the fake customers write to. */
export const page = '106540352242922';
export const phoneNumberId = '106540352242977';

/** Every secret a server of the fault suite is configured with. */
export const secrets = {
  appSecret: 'fault-app-secret-Q7x2Lm9Vr4',
  verifyToken: 'fault-verify-token-Hn3Kp8Wd',
  pageToken: 'EAAfaultPageToken7Ys2Bq9Xc1',
  whatsappToken: 'EAAfaultWhatsAppToken4Tr8Zm',
  botToken: '7000000042:AAF-fault_bot_Secret9Jv3Np',
  webhookSecret: 'fault-tg-webhook-Secret_K5s',
  merchantToken: 'fault-merchant-Token-R6d1Fw',
  crmSecret: 'fault-crm-Secret-U2g7Ce',
} as const;

/** The strings no log line may hold: each secret, and the secret half of the bot token. */
export const secretNeedles: readonly string[] = [...Object.values(secrets), secrets.botToken.split(':')[1]!];

/** The lines of every logger `captureLogs` made in this process. */
const captured: string[] = [];

/** A pino logger made by the server's `createLogger` (so its redaction runs), at debug, into memory. */
export interface LogCapture {
  readonly logger: PinoLogger;
  readonly lines: string[];
}

/** @example const { logger, lines } = captureLogs(); await startServer(config, { logger }); */
export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        lines.push(line);
        captured.push(line);
      },
    },
  });
  return { logger, lines };
}

/** Every line captured in this process so far (each test file is a process of its own). */
export function capturedLines(): readonly string[] {
  return captured;
}

/** The lines that hold a secret, each cut short and named by the secret it leaks (empty: none). */
export function leakedSecrets(lines: readonly string[]): string[] {
  const leaks: string[] = [];
  for (const line of lines) {
    for (const needle of secretNeedles) {
      if (line.includes(needle)) leaks.push(`${needle.slice(0, 12)}… in ${line.slice(0, 300)}`);
    }
  }
  return leaks;
}

/** The environment of a fault-suite server: every channel on, every secret set, quick retries, debug logs. */
export function faultEnv(targets: { graphUrl: string; dbFile: string; telegramRoot?: string; crmUrl?: string }): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${targets.dbFile}`,
    LOG_LEVEL: 'debug',
    MERCHANT_TOKEN: secrets.merchantToken,
    API_RATE_LIMIT: '1000000',
    META_APP_SECRET: secrets.appSecret,
    META_VERIFY_TOKEN: secrets.verifyToken,
    GRAPH_API_URL: targets.graphUrl,
    MESSENGER_PAGE_TOKEN: secrets.pageToken,
    WHATSAPP_TOKEN: secrets.whatsappToken,
    WHATSAPP_PHONE_NUMBER_ID: phoneNumberId,
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '200',
    ...(targets.telegramRoot
      ? {
          TELEGRAM_BOT_TOKEN: secrets.botToken,
          TELEGRAM_MODE: 'webhook',
          TELEGRAM_WEBHOOK_SECRET: secrets.webhookSecret,
          TELEGRAM_API_ROOT: targets.telegramRoot,
        }
      : {}),
    ...(targets.crmUrl ? { CRM_URL: targets.crmUrl, CRM_SECRET: secrets.crmSecret } : {}),
  };
}

/** A server of the fault suite, running in this process. */
export interface FaultServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly dbFile: string;
  /** Its log lines (also in `capturedLines()`). */
  readonly logs: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the real server in process over a fresh SQLite file, against the fakes, logging
 * at debug into a capture. Telegram (webhook mode) is on when a fake Telegram is given, the
 * CRM when a fake CRM is.
 */
export async function startFaultServer(fakes: { graph: FakeGraphApi; telegram?: FakeTelegram; crm?: FakeCrm }, env: Record<string, string> = {}): Promise<FaultServer> {
  const dir = mkdtempSync(join(tmpdir(), 'orderly-faults-'));
  const dbFile = join(dir, 'orderly.db');
  const { logger, lines } = captureLogs();
  const config = loadConfig({
    ...faultEnv({
      graphUrl: fakes.graph.url,
      dbFile,
      ...(fakes.telegram ? { telegramRoot: fakes.telegram.apiRoot } : {}),
      ...(fakes.crm ? { crmUrl: fakes.crm.url } : {}),
    }),
    ...env,
  });
  const server = await startServer(config, { logger });
  return {
    url: server.url,
    server,
    dbFile,
    logs: lines,
    async close() {
      await server.close({ timeoutMs: 2_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Webhooks.

let sequence = 0;
/** A message id no other event of this process has. */
export const nextMid = (prefix = 'm_fault'): string => `${prefix}_${process.pid}_${++sequence}`;

/** A Messenger webhook of one messaging event from `psid` to the page. */
export function messengerEvent(psid: string, event: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  return { object: 'page', entry: [{ id: page, time: now, messaging: [{ sender: { id: psid }, recipient: { id: page }, timestamp: now, ...event }] }] };
}

export const messengerText = (psid: string, text: string, mid = nextMid()) => messengerEvent(psid, { message: { mid, text } });
export const messengerPostback = (psid: string, payload: string, title = payload, mid = nextMid()) => messengerEvent(psid, { postback: { title, payload, mid } });

/** A WhatsApp Cloud API webhook of one text from `waId`. */
export function whatsappText(waId: string, text: string, id = nextMid('wamid.fault')): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name: 'Ana Lopez' }, wa_id: waId }],
              messages: [{ from: waId, id, timestamp: String(Math.floor(Date.now() / 1_000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  };
}

/** A Telegram update of one private text from `chatId`. */
export function telegramText(chatId: number, text: string, updateId = 900_000 + ++sequence): Record<string, unknown> {
  return {
    update_id: updateId,
    message: { message_id: updateId, from: { id: chatId, is_bot: false, first_name: 'Ana' }, chat: { id: chatId, type: 'private', first_name: 'Ana' }, date: Math.floor(Date.now() / 1_000), text },
  };
}

/** `X-Hub-Signature-256` of raw bytes. */
export const signMeta = (raw: string | Uint8Array, secret: string = secrets.appSecret): string =>
  `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

export type WebhookName = 'messenger' | 'whatsapp' | 'telegram';

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/**
 * POSTs a webhook body (an object is serialized, a string or bytes go as they are). `auth`:
 * `'valid'` signs it (or sends the Telegram secret token), `'none'` sends no signature, a
 * string is sent as the signature header itself.
 */
export async function postWebhook(url: string, name: WebhookName, body: unknown, auth: 'valid' | 'none' | string = 'valid'): Promise<HttpAnswer> {
  const raw: string | Uint8Array = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const header = name === 'telegram' ? 'x-telegram-bot-api-secret-token' : 'x-hub-signature-256';
  if (auth === 'valid') headers[header] = name === 'telegram' ? secrets.webhookSecret : signMeta(raw);
  else if (auth !== 'none') headers[header] = auth;
  const response = await fetch(`${url}/webhooks/${name}`, { method: 'POST', headers, body: raw });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

// The fake Graph API's records.

export const recipientOf = (request: { readonly body: unknown }): string | undefined => {
  const body = request.body as { recipient?: { id?: unknown }; to?: unknown } | undefined;
  const id = body?.recipient?.id ?? body?.to;
  return typeof id === 'string' ? id : undefined;
};

export const messengerTextOf = (request: { readonly body: unknown }): string | undefined => {
  const text = (request.body as { message?: { text?: unknown } } | undefined)?.message?.text;
  return typeof text === 'string' ? text : undefined;
};

/** The Send API requests to one customer, in arrival order. */
export const requestsTo = (graph: FakeGraphApi, psid: string): RecordedRequest[] => graph.requests.filter((request) => recipientOf(request) === psid);

/** The word a search reply echoes (`Nothing matches "<word>"`), which makes that reply attributable to its message. */
export function searchEcho(text: string | undefined): string | undefined {
  return text === undefined ? undefined : /Nothing matches "([^"]+)"/.exec(text)?.[1];
}

// The merchant API.

export interface ApiAnswer {
  readonly status: number;
  readonly text: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
}

/** POSTs a merchant API call with the token as a bearer (`token: null` for none, `inPath` for `/api/v1/<method>/<token>`). */
export async function callApi(
  url: string,
  method: string,
  body: unknown,
  options: { token?: string | null; inPath?: boolean; raw?: string } = {},
): Promise<ApiAnswer> {
  const token = options.token === undefined ? secrets.merchantToken : options.token;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null && !options.inPath) headers['authorization'] = `Bearer ${token}`;
  const path = options.inPath && token !== null ? `/api/v1/${method}/${encodeURIComponent(token)}` : `/api/v1/${method}`;
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, body: parsed };
}

/** The `data` of a successful call; throws with the answer otherwise. */
export async function apiData<T>(url: string, method: string, body: unknown): Promise<T> {
  const answer = await callApi(url, method, body);
  const envelope = answer.body as { status?: string; data?: T } | undefined;
  if (answer.status !== 200 || envelope?.status !== 'success') throw new Error(`${method} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return envelope.data as T;
}

/** An order as `listOrders` answers it (the fields the suite reads). */
export interface ListedOrder {
  readonly id: number;
  readonly user_id: number;
  readonly user_chat_id: string;
  readonly channel: string;
  readonly status: number;
  readonly paid: boolean;
  readonly [field: string]: unknown;
}

/** Every order, page after page. */
export async function allOrders(url: string): Promise<ListedOrder[]> {
  const orders: ListedOrder[] = [];
  let after = 0;
  for (;;) {
    const page = await apiData<{ orders: ListedOrder[]; next: number | null }>(url, 'listOrders', { limit: 100, after });
    orders.push(...page.orders);
    if (page.next === null) return orders;
    after = page.next;
  }
}

/** Waits until `check` holds, polling every `everyMs`; throws naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Messenger events of a purchase from the menu to a confirmed order (pickup, one item). */
export function purchaseScript(psid: string, productId: string, midPrefix: string): Record<string, unknown>[] {
  let step = 0;
  const mid = () => `${midPrefix}-${++step}`;
  return [
    messengerText(psid, 'hi', mid()),
    messengerPostback(psid, `add:${productId}`, 'Add to cart', mid()),
    messengerPostback(psid, `qty:${productId}:1`, '1', mid()),
    messengerPostback(psid, 'checkout', 'Checkout', mid()),
    messengerPostback(psid, 'delivery:pickup', 'Pickup', mid()),
    messengerText(psid, 'Ana Lopez', mid()),
    messengerText(psid, '+34 600 111 222', mid()),
    messengerPostback(psid, 'time:asap', 'As soon as possible', mid()),
    messengerPostback(psid, 'confirm', 'Confirm', mid()),
  ];
}

/** A seeded pseudo-random number generator (mulberry32): the same seed, the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
