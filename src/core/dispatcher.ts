import { backoffDelay } from './backoff.js';
import { Batcher } from './batcher.js';
import type { Channel } from './channel.js';
import type { EffectHandler, EngineObserver } from './engine-types.js';
import { DeliveryError } from './errors.js';
import type { DispatchedEffect, EffectOf } from './effects.js';
import type { Address } from './ids.js';
import type { Logger } from './logger.js';
import type { OutboxItem, Store } from './store.js';

export interface DispatcherOptions {
  readonly store: Store;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly handlers: { readonly notify_crm?: EffectHandler<EffectOf<'notify_crm'>> };
  readonly logger: Logger;
  readonly observer: EngineObserver;
  readonly clock: () => number;
  /** When a customer last wrote (ms), if known: read for every reply. */
  readonly lastInboundAt: (to: Address) => Promise<number | undefined>;
  readonly maxInFlight: number;
  readonly maxAttempts: (type: DispatchedEffect['type']) => number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

interface Lane {
  readonly name: string;
  readonly items: OutboxItem[];
  busy: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Sends outbox effects. Each lane (a customer's replies) goes one at a time in order;
 * lanes run side by side up to `maxInFlight`. A retryable failure keeps the effect at the
 * head of its lane until a later try; a permanent one records it failed and the lane moves on.
 * Successful sends are marked in the store in batches, one write per tick.
 */
export class Dispatcher {
  readonly #lanes = new Map<string, Lane>();
  readonly #ready: Lane[] = [];
  readonly #unhealthy = new Set<string>();
  readonly #sent: Batcher<{ id: number; platformId?: string; at: number }, void>;
  #inFlight = 0;
  #pending = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {
    this.#sent = new Batcher((results) => options.store.markSent(results));
  }

  /** Effects committed (or recovered at start), in id order. */
  enqueue(items: readonly OutboxItem[]): void {
    for (const item of items) {
      let lane = this.#lanes.get(item.lane);
      if (!lane) {
        lane = { name: item.lane, items: [], busy: false };
        this.#lanes.set(item.lane, lane);
      }
      lane.items.push(item);
      this.#pending++;
      if (lane.items.length === 1 && !lane.busy && !lane.timer) this.#ready.push(lane);
    }
    this.#kick();
  }

  unhealthyChannels(): string[] {
    return [...this.#unhealthy];
  }

  /** Effects not yet sent or given up, including those waiting for a retry. */
  get pending(): number {
    return this.#pending;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no send is in flight (and, with `all`, nothing is pending). */
  async settled(all: boolean): Promise<void> {
    while (all ? this.#pending > 0 : this.#inFlight > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /** Starts no new send; timers are cleared. Sends in flight finish. */
  stop(): void {
    this.#stopped = true;
    for (const lane of this.#lanes.values()) if (lane.timer) clearTimeout(lane.timer);
  }

  #kick(): void {
    while (!this.#stopped && this.#inFlight < this.options.maxInFlight && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      const head = lane.items[0];
      if (!head || lane.busy || lane.timer) continue;
      const wait = head.availableAt - this.options.clock();
      if (wait > 0) {
        this.#later(lane, wait);
        continue;
      }
      lane.busy = true;
      this.#inFlight++;
      void this.#send(lane, head);
    }
  }

  #later(lane: Lane, wait: number): void {
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      this.#ready.push(lane);
      this.#kick();
    }, Math.min(wait, 2_147_483_647));
  }

  async #send(lane: Lane, item: OutboxItem): Promise<void> {
    const started = performance.now();
    const { options } = this;
    let outcome: 'sent' | 'retry' | 'failed' | 'blocked' | 'dead';
    try {
      const result = await this.#deliver(item);
      await this.#sent.add([{ id: item.id, platformId: result?.platformId, at: options.clock() }]);
      outcome = 'sent';
    } catch (error) {
      outcome = await this.#failed(lane, item, error);
    }
    options.observer.dispatched?.(item.effect.type, outcome, (performance.now() - started) / 1000);
    lane.busy = false;
    this.#inFlight--;
    if (outcome !== 'retry') {
      lane.items.shift();
      this.#pending--;
    }
    if (lane.items.length === 0) {
      if (!lane.timer) this.#lanes.delete(lane.name);
    } else if (outcome !== 'retry') {
      this.#ready.push(lane);
    }
    if (this.#inFlight === 0 || this.#pending === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
    this.#kick();
  }

  async #deliver(item: OutboxItem): Promise<{ platformId?: string } | void> {
    const effect: DispatchedEffect = item.effect;
    if (effect.type === 'reply') {
      const channel = this.options.channels.get(effect.to.channel);
      if (!channel) throw new DeliveryError(`channel ${effect.to.channel} is not configured`, { retryable: false });
      const lastInboundAt = await this.options.lastInboundAt(effect.to);
      const result = await channel.send(effect.to, effect.message, {
        outboxId: item.id,
        attempt: item.attempts,
        ...(lastInboundAt === undefined ? {} : { lastInboundAt }),
      });
      this.#unhealthy.delete(channel.name);
      return result;
    }
    const handler = this.options.handlers[effect.type];
    if (!handler) throw new DeliveryError(`no handler for ${effect.type} is configured`, { retryable: false });
    return handler(effect, item);
  }

  /** Records a failed send; answers whether it stays at the head of its lane for a retry. */
  async #failed(lane: Lane, item: OutboxItem, error: unknown): Promise<'retry' | 'failed' | 'blocked' | 'dead'> {
    const { options } = this;
    const delivery = error instanceof DeliveryError ? error.delivery : { retryable: true };
    const reason = describe(error);
    const now = options.clock();
    try {
      if (delivery.unauthorized && item.effect.type === 'reply') {
        const name = item.effect.to.channel;
        if (!this.#unhealthy.has(name)) options.logger.error({ channel: name }, 'the platform refused the channel credentials');
        this.#unhealthy.add(name);
      }
      if (!delivery.retryable) {
        const status = delivery.blocked ? 'blocked' : 'failed';
        await options.store.markFailed(item.id, status, reason, now);
        options.logger.warn({ outboxId: item.id, effect: item.effect.type, reason }, `effect ${status}`);
        return status;
      }
      if (item.attempts + 1 >= options.maxAttempts(item.effect.type)) {
        await options.store.markFailed(item.id, 'failed', `gave up after ${item.attempts + 1} attempts: ${reason}`, now);
        options.logger.error({ outboxId: item.id, effect: item.effect.type, reason }, 'effect dead after all attempts');
        return 'dead';
      }
      const delay = Math.max(
        delivery.retryAfterMs ?? 0,
        backoffDelay(item.attempts, options.baseBackoffMs, options.maxBackoffMs),
      );
      const retried: OutboxItem = { ...item, attempts: item.attempts + 1, availableAt: now + delay, error: reason };
      await options.store.markRetry(item.id, retried.availableAt, reason);
      lane.items[0] = retried;
      this.#later(lane, delay);
      return 'retry';
    } catch (storeError) {
      // The store could not record the failure: keep the effect and try it again later.
      options.logger.error({ outboxId: item.id, err: describe(storeError) }, 'could not record a failed send');
      this.#later(lane, options.maxBackoffMs);
      return 'retry';
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
