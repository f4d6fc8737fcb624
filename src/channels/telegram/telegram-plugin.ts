import { createHash, timingSafeEqual } from 'node:crypto';
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Channel, WebhookChannel, WebhookRequest } from '../../core/channel.js';
import { EngineError } from '../../core/errors.js';
import type { InboundEventInput } from '../../core/events.js';
import type { OutboundMessage } from '../../core/outbound.js';
import type { ChannelDeps, ChannelPlugin } from '../plugin.js';
import { resolveCallbackData } from './callback-data.js';
import { createLongPolling } from './long-polling.js';
import { allowedUpdates, parseUpdate, type TelegramInput } from './parse-update.js';
import { checkPreCheckout, defaultPreCheckoutTexts, type PreCheckoutTexts } from './payments.js';
import { renderTelegram, type TelegramCall } from './render.js';
import { redactToken, toDeliveryError } from './send-errors.js';
import { createThrottle, defaultThrottle, type TelegramThrottle } from './throttle.js';
import { createUndiciFetch } from './undici-fetch.js';

export interface TelegramConfig {
  /** The bot token (`TELEGRAM_BOT_TOKEN`): `<bot id>:<secret>`. */
  readonly token: string;
  /** `webhook`: the server mounts `POST /webhooks/telegram`; `polling`: `start()` long-polls. */
  readonly mode: 'polling' | 'webhook';
  /** Expected `X-Telegram-Bot-Api-Secret-Token`; without it every webhook request is accepted. */
  readonly webhookSecret?: string;
  /**
   * Webhook mode: the public URL of the server's `/webhooks/telegram`. `start()` registers it
   * with `setWebhook` (with `webhookSecret`, and the update types the shop reads), so that
   * Telegram posts there; without it the operator calls `setWebhook`.
   */
  readonly webhookUrl?: string;
  /** The Bot API root without a trailing slash, e.g. `https://api.telegram.org`. */
  readonly apiRoot: string;
  /** The payment provider token: invoices can be sent and pre-checkout queries are answered. */
  readonly paymentToken?: string;
  /** The bot's `getMe` answer, when known: saves that call at start. */
  readonly botInfo?: UserFromGetMe;
  /** How long one `getUpdates` waits for updates, in seconds (30 by default). */
  readonly pollTimeoutSeconds?: number;
  /** How fast the bot sends, overall and per chat; by default `defaultThrottle`. */
  readonly throttle?: TelegramThrottle;
  /** How long `start()` waits for the Bot API before going on in the background, ms (10 s by default). */
  readonly startWaitMs?: number;
  /** What a refused pre-checkout query tells the customer; `defaultPreCheckoutTexts` (English) by default. */
  readonly preCheckoutTexts?: PreCheckoutTexts;
}

export { defaultThrottle };

type Ingest = Parameters<NonNullable<ChannelPlugin['start']>>[0];
type PayloadEvent = Extract<InboundEventInput, { type: 'payload' }>;

/**
 * Telegram through grammY: the outbound channel (HTML messages, inline keyboards, photos,
 * invoices; flood control by grammY's auto-retry and `createThrottle`), and, by `mode`, the webhook
 * the server mounts at `/webhooks/telegram` or long polling started by `start(ingest)`.
 * Every callback query is answered once, as soon as it is read; pre-checkout queries are
 * answered after checking the order.
 * @example
 * const telegram = createTelegramPlugin(
 *   { token: process.env.TELEGRAM_BOT_TOKEN!, mode: 'polling', apiRoot: 'https://api.telegram.org' },
 *   { store, logger },
 * );
 * const engine = createEngine({ store, flows, services, channels: [telegram.channel] });
 * await engine.start();
 * await telegram.start?.(engine.ingest);
 */
export function createTelegramPlugin(config: TelegramConfig, deps: ChannelDeps): ChannelPlugin {
  const { token, paymentToken } = config;
  const preCheckoutTexts = config.preCheckoutTexts ?? defaultPreCheckoutTexts;
  // Closed by `close()`, after the engine drained its sends.
  const http = createUndiciFetch(config.apiRoot);
  const bot = new Bot(token, {
    ...(config.botInfo ? { botInfo: config.botInfo } : {}),
    client: { apiRoot: config.apiRoot, fetch: http.fetch },
  });
  // Short waits are sat out here; longer ones, 5xx and network failures go back to the
  // outbox, which retries durably without holding a send slot.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
  bot.api.config.use(createThrottle(config.throttle ?? defaultThrottle));
  const account = String(config.botInfo?.id ?? token.split(':')[0]);
  const log = (error: unknown, what: string) =>
    deps.logger.warn({ channel: 'telegram', err: redactToken(error instanceof Error ? error.message : String(error), token) }, what);
  const firstTime = recentlySeen(10_000);
  let ingest: Ingest | undefined;

  /** Answers what must be answered now; gives the event to store, or a promise of it. */
  function take(input: TelegramInput): InboundEventInput | Promise<InboundEventInput | null> | null {
    switch (input.kind) {
      case 'event':
        return input.event;
      case 'callback':
        if (firstTime(input.queryId)) bot.api.answerCallbackQuery(input.queryId).catch((error) => log(error, 'could not answer a callback query'));
        return input.event ? withResolvedPayload(input.event) : null;
      case 'pre_checkout':
        if (firstTime(`pre:${input.queryId}`)) {
          const checked = paymentToken
            ? checkPreCheckout(input.query, deps.store, preCheckoutTexts)
            : Promise.resolve({ ok: false as const, error_message: preCheckoutTexts.paymentsUnavailable });
          checked
            .catch(() => ({ ok: false as const, error_message: preCheckoutTexts.tryAgain }))
            .then((verdict) => bot.api.answerPreCheckoutQuery(input.queryId, verdict.ok, verdict.ok ? {} : { error_message: verdict.error_message }))
            .catch((error) => log(error, 'could not answer a pre-checkout query'));
        }
        return null;
      case 'ignored':
        deps.ignored?.('telegram', 1);
        if (input.reason) deps.logger.warn({ channel: 'telegram', reason: input.reason }, 'update not taken');
        return null;
    }
  }

  /** A stored reference (`o:<outboxId>:<i>`) needs the store: the event comes later. */
  function withResolvedPayload(event: PayloadEvent): PayloadEvent | Promise<PayloadEvent | null> {
    if (!event.payload.startsWith('o:')) return event;
    return resolveCallbackData(event.payload, event.address!, deps.store).then((choice) => (choice ? { ...event, ...choice } : null));
  }

  const polling = config.mode === 'polling' ? createLongPolling(bot, takeBatch) : undefined;

  async function takeBatch(updates: readonly unknown[]): Promise<void> {
    const now = Date.now();
    const taken = await Promise.all(updates.map((update) => take(parseUpdate(update, account, now))));
    const events = taken.filter((event): event is InboundEventInput => event !== null);
    if (events.length > 0) await ingest!(events);
  }

  const webhook: WebhookChannel = {
    name: 'telegram',
    ack: 'ok',
    verifyChallenge: () => null,
    verify: (request) => secretMatches(request, config.webhookSecret),
    parse(body, now) {
      const input = parseUpdate(body, account, now);
      const event = take(input);
      if (!(event instanceof Promise)) return { events: event ? [event] : [], ignored: input.kind === 'ignored' ? 1 : 0 };
      // The webhook port parses synchronously, so a stored reference can only be resolved,
      // and stored, after the 200: an async `parse` in the port would close that gap.
      void (async () => {
        const resolved = await event;
        if (resolved && ingest) await ingest([resolved]);
        else log('no such button', 'a tapped button could not be resolved');
      })().catch((error) => log(error, 'could not store a tapped button'));
      return { events: [], ignored: 0 };
    },
  };

  const progress = new Map<number, number>();
  // Groups that became supergroups (channels.md A.6): their messages go to the new chat id.
  const supergroups = new Map<number, number>();
  const channel: Channel = {
    name: 'telegram',
    async send(to, message, context) {
      const chatId = Number(to.user);
      let target = supergroups.get(chatId) ?? chatId;
      let calls = callsFor(message, target, context.outboxId);
      // A message of several calls that failed part-way resumes where it stopped.
      let done = progress.get(context.outboxId) ?? 0;
      let last: { message_id: number } | undefined;
      let hops = 0;
      try {
        while (done < calls.length) {
          try {
            last = await execute(calls[done]!);
          } catch (error) {
            const moved = movedTo(error);
            if (moved === undefined || moved === target || ++hops > 3) throw error;
            remember(supergroups, chatId, moved, 10_000);
            deps.logger.info({ channel: 'telegram', chat: chatId, supergroup: moved }, 'the group became a supergroup: sending there');
            target = moved;
            calls = callsFor(message, target, context.outboxId);
            continue;
          }
          done++;
          remember(progress, context.outboxId, done, 1_000);
        }
      } catch (error) {
        const failure = toDeliveryError(error, token);
        if (!failure.delivery.retryable) progress.delete(context.outboxId);
        throw failure;
      }
      progress.delete(context.outboxId);
      return last ? { platformId: String(last.message_id) } : {};
    },
  };

  function callsFor(message: OutboundMessage, chatId: number, outboxId: number): TelegramCall[] {
    return renderTelegram(message, chatId, outboxId, paymentToken);
  }

  function execute(call: TelegramCall): Promise<{ message_id: number }> {
    switch (call.method) {
      case 'sendMessage':
        return bot.api.raw.sendMessage(call.payload);
      case 'sendPhoto':
        return bot.api.raw.sendPhoto(call.payload);
      case 'sendInvoice':
        return bot.api.raw.sendInvoice(call.payload);
    }
  }

  /** Points Telegram at the webhook; pending updates stay queued for it (a paid order among them). */
  async function registerWebhook(url: string): Promise<void> {
    await bot.api.setWebhook(url, {
      allowed_updates: [...allowedUpdates],
      ...(config.webhookSecret ? { secret_token: config.webhookSecret } : {}),
    });
    // Without its query: a URL may carry a key there, and no secret goes to the log.
    const { origin, pathname } = new URL(url);
    deps.logger.info({ channel: 'telegram', url: `${origin}${pathname}` }, 'Telegram webhook registered');
  }

  return {
    channel,
    payments: paymentToken !== undefined,
    ...(config.mode === 'webhook' ? { webhook } : {}),
    async start(ingestEvents) {
      ingest = ingestEvents;
      const ready = (async () => {
        await bot.init();
        if (config.mode === 'webhook' && config.webhookUrl) await registerWebhook(config.webhookUrl);
        await polling?.start({
          timeoutSeconds: config.pollTimeoutSeconds ?? 30,
          onStopped: (error) => deps.logger.error({ channel: 'telegram', err: describe(error, token) }, 'long polling stopped'),
        });
      })();
      // A refused token stops the start; an API that does not answer yet (grammY keeps
      // retrying) must not hold the whole server, so after a while it starts in the background.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        ready.then(() => 'ready' as const, (error: unknown) => ({ error })),
        new Promise<'late'>((resolve) => (timer = setTimeout(resolve, config.startWaitMs ?? 10_000, 'late'))),
      ]);
      clearTimeout(timer);
      if (outcome === 'late') {
        deps.logger.warn({ channel: 'telegram' }, 'the Bot API does not answer yet: Telegram starts when it does');
        ready.catch((error: unknown) => deps.logger.error({ channel: 'telegram', err: describe(error, token) }, 'Telegram could not start'));
      } else if (outcome !== 'ready') {
        throw new EngineError('CHANNEL', `Telegram could not start: ${describe(outcome.error, token)}`);
      }
    },
    async stop() {
      await polling?.stop();
    },
    close: () => http.close(),
  };
}

/** The new chat id of a group that became a supergroup, from a Bot API error that says so. */
function movedTo(error: unknown): number | undefined {
  const id = error instanceof GrammyError ? error.parameters.migrate_to_chat_id : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

/** Sets `key` in a map that keeps its newest `capacity` entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value!);
}

/** Constant-time comparison of the secret header; digests first, so lengths do not leak. */
function secretMatches(request: WebhookRequest, secret: string | undefined): boolean {
  if (!secret) return true;
  const header = request.headers['x-telegram-bot-api-secret-token'];
  if (typeof header !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(header), digest(secret));
}

function describe(error: unknown, token: string): string {
  const text = error instanceof GrammyError ? `${error.error_code} ${error.description}` : error instanceof Error ? error.message : String(error);
  return redactToken(text, token);
}

/** A bounded memory of ids seen: true the first time an id is seen. */
function recentlySeen(capacity: number): (id: string) => boolean {
  const seen = new Set<string>();
  return (id) => {
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > capacity) seen.delete(seen.values().next().value!);
    return true;
  };
}
