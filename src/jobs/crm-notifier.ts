import { createHmac } from 'node:crypto';
import { Pool } from 'undici';
import type { EffectOf } from '../core/effects.js';
import type { EffectHandler } from '../core/engine-types.js';
import { DeliveryError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { OrderId } from '../core/ids.js';
import type { OutboxItem, Store } from '../core/store.js';
import { toBracketedQuery } from './bracketed-query.js';
import { crmNotification, notifiedOrderSchema, type CrmNotification } from './crm-payload.js';

/** Where and how new orders are told to the merchant's CRM (`CRM_URL`, `CRM_METHOD`, `CRM_SECRET`). */
export interface CrmNotifierConfig {
  readonly url: string;
  readonly method: 'POST' | 'GET';
  /** The HMAC-SHA256 key of `X-Orderly-Signature`; unsigned without it. */
  readonly secret?: string;
  /** How long one request may take, connect to last byte (10 s by default). */
  readonly timeoutMs?: number;
  /** Keep-alive connections to the CRM at most (4 by default). */
  readonly connections?: number;
}

/** What the notifier reads: the order's customer, for `user_id`. */
export interface CrmNotifierDeps {
  readonly store: Pick<Store, 'getOrder' | 'findCustomer'>;
  readonly logger?: Logger;
}

/** The `notify_crm` effect handler, and `close` for its connections. */
export type CrmNotifier = EffectHandler<EffectOf<'notify_crm'>> & {
  /** Closes the keep-alive connections once requests in flight are done. */
  close(): Promise<void>;
};

/** The signature header: `sha256=<hex HMAC-SHA256 of the exact bytes>`. */
export const signatureHeader = 'x-orderly-signature';

/**
 * Creates the handler the engine calls for each `notify_crm` outbox row: it POSTs the order
 * as JSON, or GETs it as a bracketed query string, over a keep-alive undici pool, signed
 * when a secret is set. A 2xx answer delivers it. Any other answer, a network error or a
 * timeout throws a retryable `DeliveryError` (with the CRM's `Retry-After` when it gives
 * one): the dispatcher retries with backoff until `maxAttempts`, then records it dead.
 * A notification whose order data is not an order model fails at once: it can never succeed.
 * @example
 * const notify_crm = createCrmNotifier({ url: 'https://crm.example.com/orders', method: 'POST', secret }, { store, logger });
 * const engine = createEngine({ store, flows, services, handlers: { notify_crm }, maxAttempts: { notify_crm: 10 } });
 * // on shutdown, after engine.stop():
 * await notify_crm.close();
 */
export function createCrmNotifier(config: CrmNotifierConfig, deps: CrmNotifierDeps): CrmNotifier {
  const target = new URL(config.url);
  const timeoutMs = config.timeoutMs ?? 10_000;
  const logger = deps.logger ?? silentLogger;
  const pool = new Pool(target.origin, {
    connections: config.connections ?? 4,
    keepAliveTimeout: 30_000,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const sign = (bytes: string): Record<string, string> =>
    config.secret ? { [signatureHeader]: `sha256=${createHmac('sha256', config.secret).update(bytes, 'utf8').digest('hex')}` } : {};

  const request = (notification: CrmNotification) => {
    if (config.method === 'POST') {
      const body = JSON.stringify(notification);
      const headers = { 'content-type': 'application/json', ...sign(body) };
      return { method: 'POST' as const, path: `${target.pathname}${target.search}`, headers, body };
    }
    // The CRM checks the query string exactly as it arrives: CRM_URL's own parameters included.
    const own = target.search.slice(1);
    const query = own ? `${own}&${toBracketedQuery({ ...notification })}` : toBracketedQuery({ ...notification });
    return { method: 'GET' as const, path: `${target.pathname}?${query}`, headers: sign(query) };
  };

  const handler = async (effect: EffectOf<'notify_crm'>, item: OutboxItem): Promise<void> => {
    const parsed = notifiedOrderSchema.safeParse(effect.order);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') ?? '';
      throw new DeliveryError(`order ${effect.orderId}: the notification is not an order (${field})`, { retryable: false });
    }
    const userId = parsed.data.user_id ?? (await customerIdOf(deps.store, effect.orderId, parsed.data));
    const sent = request(crmNotification(parsed.data, userId));
    const attempt = item.attempts + 1;
    let status: number;
    let retryAfter: string | string[] | undefined;
    let answer: string;
    try {
      const response = await pool.request({ ...sent, signal: AbortSignal.timeout(timeoutMs) });
      status = response.statusCode;
      retryAfter = response.headers['retry-after'];
      answer = await response.body.text();
    } catch (error) {
      const reason = describeNetworkError(error, timeoutMs);
      logger.warn({ orderId: effect.orderId, attempt, reason }, 'CRM notification not delivered');
      throw new DeliveryError(`CRM ${reason}`, { retryable: true }, { cause: error });
    }
    if (status >= 200 && status < 300) {
      logger.info({ orderId: effect.orderId, attempt, status }, 'CRM notified');
      return;
    }
    logger.warn({ orderId: effect.orderId, attempt, status }, 'CRM notification refused');
    const retryAfterMs = parseRetryAfter(retryAfter);
    // Every refusal is retried, 4xx included: a CRM mid-deploy or misconfigured (401, 404)
    // accepts once fixed, and a permanent one costs only CRM_MAX_ATTEMPTS small requests.
    throw new DeliveryError(`CRM answered ${status}${snippet(answer)}`, {
      retryable: true,
      platformCode: status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  };

  return Object.assign(handler, { close: () => pool.close() });
}

/** The store's customer id of the order's customer (the order row has it; the address as a fallback). */
async function customerIdOf(
  store: CrmNotifierDeps['store'],
  orderId: number,
  order: { channel: string; user_chat_id: string },
): Promise<number> {
  const record = await store.getOrder(orderId as OrderId);
  const id = record?.customerId ?? (await store.findCustomer({ channel: order.channel, user: order.user_chat_id }))?.id;
  if (id === undefined) throw new DeliveryError(`order ${orderId}: its customer is not in the store yet`, { retryable: true });
  return id;
}

const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: unknown } | null)?.code;
  if (name === 'TimeoutError' || name === 'AbortError' || timeoutCodes.has(String(code))) return `did not answer within ${timeoutMs} ms`;
  return `could not be reached (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`;
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds (at most an hour). */
function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text) * 1_000 : Date.parse(text) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

/**
 * The start of the CRM's answer, for the message log and the logs: one short line, with
 * long runs of digits masked (a CRM may echo the order's phone number in its error).
 */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim().replace(/\+?\d[\d ().-]{5,}\d/g, '[number]');
  return line ? `: ${line.length > 200 ? `${line.slice(0, 197)}...` : line}` : '';
}
