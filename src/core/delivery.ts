import { backoffDelay } from './backoff.js';
import type { Channel } from './channel.js';
import type { EffectHandler } from './engine-types.js';
import { DeliveryError } from './errors.js';
import type { DispatchedEffect, EffectOf } from './effects.js';
import type { Address } from './ids.js';
import type { Logger } from './logger.js';
import type { OutboxItem, Store } from './store.js';

export interface DeliveryOptions {
  readonly store: Store;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly handlers: { readonly notify_crm?: EffectHandler<EffectOf<'notify_crm'>> };
  readonly logger: Logger;
  readonly clock: () => number;
  /** When a customer last wrote (ms), if known: read for every reply. */
  readonly lastInboundAt: (to: Address) => Promise<number | undefined>;
  readonly maxAttempts: (type: DispatchedEffect['type']) => number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** What became of a send that failed: given up (recorded), or to be tried again after `delay` ms. */
export type Failure =
  | { readonly outcome: 'failed' | 'blocked' | 'dead' }
  /** `item` is the row as it now stands in the store (attempts counted), when the store recorded the try. */
  | { readonly outcome: 'retry'; readonly delay: number; readonly item?: OutboxItem };

/**
 * Sends one outbox effect through its channel or handler, and records a failed send: a
 * permanent error (or the last attempt) marks the row failed, any other schedules a retry
 * with backoff, at least as late as the platform asked. The dispatcher decides what goes out
 * when; this knows how one effect goes out and what its failure means.
 */
export class Delivery {
  /** Channels whose credentials the platform refused, until one of their sends succeeds. */
  readonly unhealthy = new Set<string>();

  constructor(private readonly options: DeliveryOptions) {}

  async send(item: OutboxItem): Promise<{ platformId?: string } | void> {
    const effect: DispatchedEffect = item.effect;
    if (effect.type === 'reply') {
      const channel = this.options.channels.get(effect.to.channel);
      if (!channel) throw new NotConfigured(`channel ${effect.to.channel} is not configured`);
      const lastInboundAt = await this.options.lastInboundAt(effect.to);
      const result = await channel.send(effect.to, effect.message, {
        outboxId: item.id,
        attempt: item.attempts,
        ...(lastInboundAt === undefined ? {} : { lastInboundAt }),
      });
      this.unhealthy.delete(channel.name);
      return result;
    }
    const handler = this.options.handlers[effect.type];
    if (!handler) throw new NotConfigured(`no handler for ${effect.type} is configured`);
    return handler(effect, item);
  }

  /** Records a failed send in the store; answers whether and when it is tried again. */
  async failed(item: OutboxItem, error: unknown): Promise<Failure> {
    const { options } = this;
    const delivery = error instanceof DeliveryError ? error.delivery : { retryable: true };
    const reason = errorMessage(error);
    const now = options.clock();
    try {
      if (delivery.unauthorized && item.effect.type === 'reply') {
        const name = item.effect.to.channel;
        if (!this.unhealthy.has(name)) options.logger.error({ channel: name }, 'the platform refused the channel credentials');
        this.unhealthy.add(name);
      }
      if (!delivery.retryable) {
        const status = delivery.blocked ? 'blocked' : 'failed';
        await options.store.markFailed(item.id, status, reason, now);
        // Off by configuration (no CRM_URL) is no news: the row waits for retryNotifications.
        const log = error instanceof NotConfigured ? options.logger.debug : options.logger.warn;
        log.call(options.logger, { outboxId: item.id, effect: item.effect.type, reason }, `effect ${status}`);
        return { outcome: status };
      }
      if (item.attempts + 1 >= options.maxAttempts(item.effect.type)) {
        await options.store.markFailed(item.id, 'failed', `gave up after ${item.attempts + 1} attempts: ${reason}`, now);
        options.logger.error({ outboxId: item.id, effect: item.effect.type, reason }, 'effect dead after all attempts');
        return { outcome: 'dead' };
      }
      const delay = Math.max(delivery.retryAfterMs ?? 0, backoffDelay(item.attempts, options.baseBackoffMs, options.maxBackoffMs));
      const retried: OutboxItem = { ...item, attempts: item.attempts + 1, availableAt: now + delay, error: reason };
      await options.store.markRetry(item.id, retried.availableAt, reason);
      return { outcome: 'retry', delay, item: retried };
    } catch (storeError) {
      // The store could not record the failure: keep the effect and try it again later.
      options.logger.error({ outboxId: item.id, err: errorMessage(storeError) }, 'could not record a failed send');
      return { outcome: 'retry', delay: options.maxBackoffMs };
    }
  }
}

/** The message of an error, or the thrown value as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Nothing is set up to deliver this effect: recorded failed, not retried, not alarming. */
class NotConfigured extends DeliveryError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}
