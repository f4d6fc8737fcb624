import { createHmac } from 'node:crypto';

/** The channels the bench drives. */
export type BenchChannel = 'messenger' | 'telegram';

/** The identities and secrets the bench gives the servers it starts. */
export const benchSecrets = {
  appSecret: 'bench-app-secret',
  pageToken: 'bench-page-token',
  pageId: '104000000000001',
  botToken: '7000000001:AAH-bench-secret_token',
  webhookSecret: 'bench-webhook-secret',
} as const;

/** The account part of a conversation key: the page id, or the bot's id. */
export function accountOf(channel: BenchChannel): string {
  return channel === 'messenger' ? benchSecrets.pageId : benchSecrets.botToken.split(':')[0]!;
}

/**
 * The platform id of the bench's customer number `index`: a 16-digit PSID for Messenger, a
 * chat id for Telegram. Both are fixed-width, so they sort as they count (seeding inserts
 * them in key order).
 * @example customerId('telegram', 7) // '600000007'
 */
export function customerId(channel: BenchChannel, index: number): string {
  return channel === 'messenger' ? `7${String(index).padStart(15, '0')}` : String(600_000_000 + index);
}

/**
 * `customerId` as a PostgreSQL expression of the integer column `index`, for seeding with
 * `generate_series`.
 * @example customerIdSql('telegram', 'i') // "(600000000 + i)::text"
 */
export function customerIdSql(channel: BenchChannel, index: string): string {
  return channel === 'messenger' ? `'7' || lpad(${index}::text, 15, '0')` : `(600000000 + ${index})::text`;
}

/**
 * Which stored customer the pool's customer `j` is: with more stored than in the pool,
 * spread evenly over all of them (so lookups land all over the tables); else the first ones.
 */
export function poolCustomer(j: number, pool: number, stored: number): number {
  return stored > pool ? Math.floor((j * stored) / pool) : j;
}

/** One webhook request, ready to send. */
export interface BenchEvent {
  /** The recipient id the reply to it carries (PSID or chat id). */
  readonly customer: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Where a channel's webhook is posted. */
export function webhookPath(channel: BenchChannel): string {
  return `/webhooks/${channel}`;
}

/** The texts customers send: each answered with exactly one message by the shop flow. */
const texts = ['hi', 'menu'] as const;

/**
 * One Messenger webhook with one text message, signed as Meta signs it.
 * @example messengerEvent('7000000000000001', 'm_bench_1', 'hi', Date.now())
 */
export function messengerEvent(psid: string, mid: string, text: string, at: number): BenchEvent {
  const page = benchSecrets.pageId;
  const body = Buffer.from(
    `{"object":"page","entry":[{"id":"${page}","time":${at},"messaging":[{"sender":{"id":"${psid}"},"recipient":{"id":"${page}"},"timestamp":${at},"message":{"mid":"${mid}","text":"${text}"}}]}]}`,
  );
  const signature = `sha256=${createHmac('sha256', benchSecrets.appSecret).update(body).digest('hex')}`;
  return { customer: psid, body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature } };
}

/**
 * One Telegram update with one private text message, with the webhook's secret header.
 * @example telegramUpdate('600000001', 2_000_000_001, 'hi', Date.now())
 */
export function telegramUpdate(chatId: string, updateId: number, text: string, at: number): BenchEvent {
  const date = Math.floor(at / 1_000);
  const body = Buffer.from(
    `{"update_id":${updateId},"message":{"message_id":${updateId},"from":{"id":${chatId},"is_bot":false,"first_name":"Bench"},"chat":{"id":${chatId},"type":"private","first_name":"Bench"},"date":${date},"text":"${text}"}}`,
  );
  return {
    customer: chatId,
    body,
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': benchSecrets.webhookSecret },
  };
}

/** Hands out the events of one load phase, in order, prebuilt and signed in advance. */
export interface EventSource {
  next(): BenchEvent;
  /** Events handed out. */
  readonly used: number;
  /** Events that had to be built and signed during the load (the prebuilt ones ran out). */
  readonly builtLate: number;
}

export interface EventSourceOptions {
  readonly channel: BenchChannel;
  /** The pool's customers' platform ids, in round-robin order. */
  readonly customers: readonly string[];
  /** Tells this phase's ids apart from other phases' (a small integer, 1-20). */
  readonly phase: number;
  /** How many to build and sign before the load starts. */
  readonly prebuild: number;
}

/**
 * The events of one phase: the k-th goes to customer `k mod pool` and says "hi" or "menu"
 * by turns; every `mid` (Messenger) and `update_id` (Telegram) is unique, so nothing is
 * deduplicated. `prebuild` of them are signed up front; past that they are built when asked.
 * @example
 * const source = createEventSource({ channel: 'messenger', customers, phase: 2, prebuild: 100_000 });
 * const { customer, body, headers } = source.next();
 */
export function createEventSource(options: EventSourceOptions): EventSource {
  const { channel, customers, phase } = options;
  const at = Date.now();
  // A store that outlives one invocation (PostgreSQL) must not take these for retries.
  const run = at.toString(36);
  const build = (k: number): BenchEvent => {
    const customer = customers[k % customers.length]!;
    const text = texts[Math.floor(k / customers.length) % texts.length]!;
    return channel === 'messenger'
      ? messengerEvent(customer, `m_bench_${run}_${phase}_${k}`, text, at)
      : telegramUpdate(customer, phase * 100_000_000 + k, text, at);
  };
  const prebuilt: (BenchEvent | undefined)[] = Array.from({ length: options.prebuild }, (_, k) => build(k));
  let used = 0;
  let builtLate = 0;
  return {
    next() {
      const k = used++;
      const ready = prebuilt[k];
      if (ready) {
        // Sent events are not needed again: let them go.
        prebuilt[k] = undefined;
        return ready;
      }
      builtLate++;
      return build(k);
    },
    get used() {
      return used;
    },
    get builtLate() {
      return builtLate;
    },
  };
}
