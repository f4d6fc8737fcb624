import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of the Telegram Bot API on loopback: `POST /bot<token>/<method>` with a JSON body,
 * answered `{ok: true, result}` or `{ok: false, error_code, description, parameters?}` with
 * the HTTP status of the error code, as the real API does (channels.md A.6, A.7). It checks
 * what the real API checks and the shop depends on (HTML entities and tags, text and caption
 * lengths after entity parsing, callback data of 1-64 bytes, invoice limits, answering a
 * query twice), keeps updates for `getUpdates` with Telegram's offset rule (an update is
 * confirmed, and gone, once a call asks for a higher offset), holds long polls until an
 * update arrives or the timeout passes, delivers to a webhook when one is set, records every
 * request, and can be told to fail.
 */

export interface TelegramRequest {
  readonly method: string;
  /** The parsed body (JSON, form or query). */
  readonly body: Record<string, unknown>;
  readonly at: number;
  readonly status: number;
  readonly answer: unknown;
}

/** How the fake misbehaves for one request. */
export type TelegramFailure =
  | { readonly kind: 'flood'; readonly retryAfter: number }
  | { readonly kind: 'server' }
  | { readonly kind: 'blocked' }
  | { readonly kind: 'chat_not_found' }
  | { readonly kind: 'unauthorized' }
  /** Answers normally after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Cuts the connection without an answer (a network failure). */
  | { readonly kind: 'drop' };

/** A message the bot sent, as the fake keeps it. */
export interface SentMessage {
  readonly message_id: number;
  readonly chat: { id: number; type: 'private' };
  readonly date: number;
  text?: string;
  caption?: string;
  photo?: { file_id: string; width: number; height: number }[];
  invoice?: { title: string; description: string; currency: string; total_amount: number; start_parameter: string };
  reply_markup?: { inline_keyboard: { text: string; callback_data?: string; url?: string }[][] };
  readonly from: { id: number; is_bot: true; first_name: string; username: string };
}

type Update = { update_id: number } & Record<string, unknown>;
type Answer = { status: number; body: unknown };
class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

const badRequest = (what: string) => new ApiError(400, `Bad Request: ${what}`);
const failures: Record<Exclude<TelegramFailure['kind'], 'slow' | 'drop' | 'flood'>, () => ApiError> = {
  server: () => new ApiError(500, 'Internal Server Error'),
  blocked: () => new ApiError(403, 'Forbidden: bot was blocked by the user'),
  chat_not_found: () => badRequest('chat not found'),
  unauthorized: () => new ApiError(401, 'Unauthorized'),
};

export interface FakeTelegramOptions {
  /** The token the fake accepts; `<bot id>:<secret>`. */
  readonly token?: string;
  readonly username?: string;
}

/** Starts the fake on 127.0.0.1 at a free port. */
export async function startFakeTelegram(options: FakeTelegramOptions = {}) {
  const token = options.token ?? '7000000001:AAH-fake-secret_token';
  const botId = Number(token.split(':')[0]);
  const me = {
    id: botId,
    is_bot: true as const,
    first_name: 'Example Shop',
    username: options.username ?? 'example_shop_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
  const requests: TelegramRequest[] = [];
  const rules: { method: string; failure: TelegramFailure; times: number }[] = [];
  const queue: Update[] = [];
  const chats = new Map<number, SentMessage[]>();
  const blocked = new Set<number>();
  const upgraded = new Map<number, number>();
  const openQueries = new Set<string>();
  const answeredQueries = new Set<string>();
  let nextUpdateId = 815_000_200;
  let confirmedBelow = 0;
  let webhook: { url: string; secret?: string } | undefined;
  let poll: { wake: () => void; conflict: () => void } | undefined;
  let delivering = false;

  const now = () => Math.floor(Date.now() / 1_000);
  const chatOf = (body: Record<string, unknown>): number => {
    const id = Number(body.chat_id);
    if (!Number.isSafeInteger(id) || id === 0) throw badRequest('chat not found');
    if (blocked.has(id)) throw failures.blocked();
    const supergroup = upgraded.get(id);
    if (supergroup !== undefined) throw new ApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: supergroup });
    return id;
  };
  const store = (chatId: number, fields: Partial<SentMessage>): SentMessage => {
    const list = chats.get(chatId) ?? [];
    chats.set(chatId, list);
    const message: SentMessage = {
      message_id: list.length + 1,
      chat: { id: chatId, type: 'private' },
      date: now(),
      from: { id: botId, is_bot: true, first_name: me.first_name, username: me.username },
      ...fields,
    };
    list.push(message);
    return message;
  };
  const keyboard = (body: Record<string, unknown>): Pick<SentMessage, 'reply_markup'> => {
    const markup = body.reply_markup === undefined ? undefined : parseJson(body.reply_markup);
    if (markup === undefined) return {};
    const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
    if (!Array.isArray(rows)) throw badRequest("can't parse reply keyboard markup JSON object");
    for (const button of rows.flat() as Record<string, unknown>[]) {
      if (typeof button.text !== 'string' || button.text === '') throw badRequest('text buttons are unallowed in the inline keyboard');
      const actions = ['url', 'callback_data', 'pay', 'web_app', 'login_url', 'switch_inline_query'].filter((key) => key in button);
      if (actions.length !== 1) throw badRequest("can't parse inline keyboard button: exactly one action field is required");
      if ('callback_data' in button) {
        const data = String(button.callback_data);
        if (data === '' || Buffer.byteLength(data, 'utf8') > 64) throw badRequest('BUTTON_DATA_INVALID');
      }
      if ('url' in button && !/^(https?|tg):\/\/\S+$/.test(String(button.url))) throw badRequest(`inline keyboard button URL '${String(button.url)}' is invalid`);
    }
    return { reply_markup: markup as SentMessage['reply_markup'] };
  };
  const text = (body: Record<string, unknown>, field: 'text' | 'caption', max: number, required: boolean): Pick<SentMessage, 'text' | 'caption'> => {
    const value = body[field];
    if (value === undefined && !required) return {};
    if (typeof value !== 'string') throw badRequest(`message ${field} is empty`);
    const plain = body.parse_mode === 'HTML' ? parseHtml(value) : value;
    if (plain.trim() === '' && required) throw badRequest(`message ${field} is empty`);
    if (plain.length > max) throw badRequest(field === 'text' ? 'message is too long' : 'message caption is too long');
    return { [field]: plain };
  };
  const answerQuery = (id: unknown) => {
    const key = String(id);
    if (!openQueries.has(key) || answeredQueries.has(key)) throw badRequest('query is too old and response timeout expired or query ID is invalid');
    answeredQueries.add(key);
  };

  const methods: Record<string, (body: Record<string, unknown>) => unknown> = {
    getMe: () => me,
    sendMessage: (body) => store(chatOf(body), { ...text(body, 'text', 4_096, true), ...keyboard(body) }),
    sendPhoto: (body) => {
      const chatId = chatOf(body);
      if (typeof body.photo !== 'string' || !/^https?:\/\//.test(body.photo)) throw badRequest('wrong remote file identifier specified: Wrong string length');
      return store(chatId, { photo: [{ file_id: `photo-${requests.length}`, width: 800, height: 800 }], ...text(body, 'caption', 1_024, false), ...keyboard(body) });
    },
    editMessageText: (body) => {
      const message = chats.get(chatOf(body))?.[Number(body.message_id) - 1];
      if (!message) throw badRequest('message to edit not found');
      const next = { ...text(body, 'text', 4_096, true), ...keyboard(body) };
      if (next.text === message.text && JSON.stringify(next.reply_markup) === JSON.stringify(message.reply_markup)) {
        throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      return Object.assign(message, next);
    },
    answerCallbackQuery: (body) => {
      answerQuery(body.callback_query_id);
      if (typeof body.text === 'string' && body.text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
      return true;
    },
    sendInvoice: (body) => {
      const chatId = chatOf(body);
      const title = String(body.title ?? '');
      const description = String(body.description ?? '');
      const payload = String(body.payload ?? '');
      const prices = parseJson(body.prices);
      if (title.length < 1 || title.length > 32) throw badRequest('INVOICE_TITLE_INVALID'); // UNCONFIRMED wording
      if (description.length < 1 || description.length > 255) throw badRequest('INVOICE_DESCRIPTION_INVALID');
      if (payload === '' || Buffer.byteLength(payload) > 128) throw badRequest('INVOICE_PAYLOAD_INVALID');
      if (!/^[A-Z]{3}$/.test(String(body.currency))) throw badRequest('CURRENCY_INVALID');
      if (!Array.isArray(prices) || prices.length === 0 || prices.some((price) => !Number.isInteger((price as { amount?: unknown }).amount))) {
        throw badRequest("can't parse prices JSON object");
      }
      const total = prices.reduce((sum: number, price) => sum + (price as { amount: number }).amount, 0);
      return store(chatId, { invoice: { title, description, currency: String(body.currency), total_amount: total, start_parameter: '' }, ...keyboard(body) });
    },
    answerPreCheckoutQuery: (body) => {
      answerQuery(body.pre_checkout_query_id);
      if (typeof body.ok !== 'boolean') throw badRequest('parameter "ok" is required');
      if (!body.ok && typeof body.error_message !== 'string') throw badRequest('ERROR_MESSAGE_EMPTY');
      return true;
    },
    setWebhook: (body) => {
      const url = String(body.url ?? '');
      // As Telegram answers a host it cannot resolve (the reserved .invalid names here).
      if (/^https?:\/\/[^/:]+\.invalid(?=[:/]|$)/.test(url)) throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
      webhook = url ? { url, ...(typeof body.secret_token === 'string' ? { secret: body.secret_token } : {}) } : undefined;
      void deliver();
      return true;
    },
    deleteWebhook: (body) => {
      webhook = undefined;
      if (body.drop_pending_updates === true) queue.length = 0;
      return true;
    },
    getWebhookInfo: () => ({ url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: queue.length }),
  };

  async function getUpdates(body: Record<string, unknown>, res: ServerResponse): Promise<Answer> {
    if (webhook) throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const offset = Number(body.offset ?? 0);
    if (offset > confirmedBelow) confirmedBelow = offset;
    while (queue.length > 0 && queue[0]!.update_id < confirmedBelow) queue.shift();
    const limit = Math.min(Math.max(Number(body.limit ?? 100), 1), 100);
    const timeoutMs = Math.max(0, Number(body.timeout ?? 0)) * 1_000;
    poll?.conflict();
    if (queue.length === 0 && timeoutMs > 0) {
      const outcome = await new Promise<'wake' | 'conflict' | 'gone'>((resolve) => {
        const timer = setTimeout(() => done('wake'), timeoutMs);
        const done = (how: 'wake' | 'conflict' | 'gone') => {
          clearTimeout(timer);
          res.off('close', gone);
          if (poll === mine) poll = undefined;
          resolve(how);
        };
        const gone = () => done('gone');
        const mine = { wake: () => done('wake'), conflict: () => done('conflict') };
        poll = mine;
        res.once('close', gone);
      });
      if (outcome === 'conflict') throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
      if (outcome === 'gone') return { status: 0, body: undefined };
    }
    return { status: 200, body: { ok: true, result: queue.slice(0, limit) } };
  }

  /** Sends queued updates to the webhook, one at a time, retrying a failed one a few times. */
  async function deliver(): Promise<void> {
    if (delivering) return;
    delivering = true;
    try {
      for (let attempt = 0; webhook && queue.length > 0; ) {
        const update = queue[0]!;
        const status = await fetch(webhook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(webhook.secret ? { 'x-telegram-bot-api-secret-token': webhook.secret } : {}) },
          body: JSON.stringify(update),
        }).then((response) => response.arrayBuffer().then(() => response.status), () => 0);
        if ((status >= 200 && status < 300) || ++attempt >= 5) {
          queue.shift();
          attempt = 0;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      delivering = false;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const raw = await readBody(req);
    let body: Record<string, unknown> = Object.fromEntries(url.searchParams);
    try {
      if (raw.length > 0) {
        body = req.headers['content-type']?.includes('json')
          ? { ...body, ...(JSON.parse(raw) as Record<string, unknown>) }
          : { ...body, ...Object.fromEntries(new URLSearchParams(raw)) };
      }
    } catch {
      body = {};
    }
    const method = match?.[2] ?? '';
    let answer: Answer;
    try {
      if (!match) throw new ApiError(404, 'Not Found');
      if (match[1] !== token) throw failures.unauthorized();
      const ruleIndex = rules.findIndex((rule) => rule.method === method || (rule.method === '*' && method !== 'getUpdates'));
      const rule = rules[ruleIndex];
      if (rule) {
        if (--rule.times <= 0) rules.splice(ruleIndex, 1);
        const { failure } = rule;
        if (failure.kind === 'drop') {
          requests.push({ method, body, at: Date.now(), status: 0, answer: undefined });
          req.socket.destroy();
          return;
        }
        if (failure.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, failure.ms));
        else if (failure.kind === 'flood') {
          throw new ApiError(429, `Too Many Requests: retry after ${failure.retryAfter}`, { retry_after: failure.retryAfter });
        } else throw failures[failure.kind]();
      }
      if (method === 'getUpdates') answer = await getUpdates(body, res);
      else {
        const run = methods[method];
        if (!run) throw new ApiError(404, 'Not Found: method not found');
        answer = { status: 200, body: { ok: true, result: run(body) } };
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const { code, description, parameters } = error;
      answer = { status: code, body: { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) } };
    }
    requests.push({ method, body, at: Date.now(), status: answer.status, answer: answer.body });
    if (answer.status === 0 || res.destroyed) return;
    const out = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake = {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    botId,
    me,
    requests: requests as readonly TelegramRequest[],
    /** Requests of one method, oldest first. */
    calls: (method: string) => requests.filter((request) => request.method === method),
    /** Queues an update (numbered when it has no `update_id`); answers its id. */
    push(update: Record<string, unknown>): number {
      const update_id = typeof update.update_id === 'number' ? update.update_id : nextUpdateId++;
      const full: Update = { ...update, update_id };
      const query = (full.callback_query ?? full.pre_checkout_query) as { id?: unknown } | undefined;
      if (query?.id !== undefined) openQueries.add(String(query.id));
      queue.push(full);
      poll?.wake();
      void deliver();
      return update_id;
    },
    /** Fails the next `times` calls of `method` (`*`: any method but getUpdates). */
    fail(method: string, failure: TelegramFailure, times = 1): void {
      rules.push({ method, failure, times });
    },
    /** The chat blocked the bot: every send to it answers 403. */
    block: (chatId: number) => void blocked.add(chatId),
    /** The group became a supergroup: every send to it answers 400 with `migrate_to_chat_id`. */
    upgrade: (groupId: number, supergroupId: number) => void upgraded.set(groupId, supergroupId),
    /** Updates below this id were confirmed by a `getUpdates` offset. */
    get confirmedBelow() {
      return confirmedBelow;
    },
    /** Updates not yet confirmed (polling) or delivered (webhook). */
    get pending(): readonly Update[] {
      return queue;
    },
    /** What the bot sent to a chat, oldest first. */
    messagesTo: (chatId: number): readonly SentMessage[] => chats.get(chatId) ?? [],
    /** Sets the webhook as `setWebhook` would: queued and later updates are POSTed to it. */
    setWebhook(url: string, secret?: string): void {
      methods.setWebhook!({ url, ...(secret ? { secret_token: secret } : {}) });
    },
    /** Polls `check` until it answers something other than undefined. */
    async waitFor<T>(check: () => T | undefined, what = 'a condition', timeoutMs = 8_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`fake Telegram: timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close(): Promise<void> {
      webhook = undefined;
      poll?.conflict();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

export type FakeTelegram = Awaited<ReturnType<typeof startFakeTelegram>>;

/** Updates as Telegram sends them, for tests. */
export const telegramUpdates = {
  text: (chatId: number, text: string, extra: Record<string, unknown> = {}) => ({
    message: {
      message_id: Math.floor(Math.random() * 1e6),
      from: { id: chatId, is_bot: false, first_name: 'Ana' },
      chat: { id: chatId, first_name: 'Ana', type: 'private' },
      date: Math.floor(Date.now() / 1_000),
      text,
      ...(text.startsWith('/') ? { entities: [{ offset: 0, length: text.split(/\s/)[0]!.length, type: 'bot_command' }] } : {}),
      ...extra,
    },
  }),
  callback: (chatId: number, message: SentMessage, data: string, id = `cb-${Math.random().toString(36).slice(2)}`) => ({
    callback_query: {
      id,
      from: { id: chatId, is_bot: false, first_name: 'Ana' },
      message,
      chat_instance: '-7251890164213741824',
      data,
    },
  }),
  preCheckout: (chatId: number, invoice: { payload: string; currency: string; total: number }, id = `pcq-${Math.random().toString(36).slice(2)}`) => ({
    pre_checkout_query: {
      id,
      from: { id: chatId, is_bot: false, first_name: 'Ana' },
      currency: invoice.currency,
      total_amount: invoice.total,
      invoice_payload: invoice.payload,
    },
  }),
  successfulPayment: (chatId: number, invoice: { payload: string; currency: string; total: number }, charge = `ch-${Math.random().toString(36).slice(2)}`) =>
    telegramUpdates.text(chatId, '', {
      text: undefined,
      successful_payment: {
        currency: invoice.currency,
        total_amount: invoice.total,
        invoice_payload: invoice.payload,
        telegram_payment_charge_id: charge,
        provider_payment_charge_id: `provider-${charge}`,
      },
    }),
};

/** The text Telegram shows for an HTML message, or a 400 for what it cannot parse. */
function parseHtml(html: string): string {
  const allowed = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'tg-time', 'code', 'pre', 'blockquote']);
  const open: string[] = [];
  let plain = '';
  for (let i = 0; i < html.length; ) {
    const char = html[i]!;
    if (char === '<') {
      const tag = /^<(\/?)([a-z-]+)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/i.exec(html.slice(i));
      if (!tag || !allowed.has(tag[2]!.toLowerCase())) throw badRequest(`can't parse entities: Unsupported start tag at byte offset ${i}`);
      const name = tag[2]!.toLowerCase();
      if (tag[1]) {
        if (open.pop() !== name) throw badRequest(`can't parse entities: Unmatched end tag at byte offset ${i}, expected "</${open.at(-1) ?? ''}>"`);
      } else open.push(name);
      i += tag[0].length;
    } else if (char === '&') {
      const entity = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i));
      if (!entity) throw badRequest(`can't parse entities: Character '&' is reserved and must be escaped at byte offset ${i}`);
      const name = entity[1]!.toLowerCase();
      plain += name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'amp' ? '&' : name === 'quot' ? '"' : String.fromCodePoint(Number(name.startsWith('#x') ? `0x${name.slice(2)}` : name.slice(1)));
      i += entity[0].length;
    } else if (char === '>') {
      throw badRequest(`can't parse entities: Character '>' is reserved and must be escaped at byte offset ${i}`);
    } else {
      plain += char;
      i++;
    }
  }
  if (open.length > 0) throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return plain;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw badRequest("can't parse JSON object");
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
