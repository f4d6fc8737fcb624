import type { Channel } from './channel.js';
import type { DispatchedEffect, EffectOf } from './effects.js';
import type { InboundEvent, InboundEventInput } from './events.js';
import type { FlowDefinition } from './flow.js';
import type { Logger } from './logger.js';
import type { RetentionOptions } from './retention.js';
import type { OutboxItem, Store } from './store.js';

/** Sends one outbox effect of a type that is not a `reply` (a CRM notification). */
export type EffectHandler<E extends DispatchedEffect = DispatchedEffect> = (
  effect: E,
  item: OutboxItem,
) => Promise<{ platformId?: string } | void>;

/** Counters the engine reports as it works; `server/` turns them into metrics. */
export interface EngineObserver {
  ingested?(accepted: number, duplicates: number): void;
  processed?(event: InboundEvent, seconds: number, outcome: 'ok' | 'failed' | 'recovered'): void;
  dispatched?(type: DispatchedEffect['type'], outcome: 'sent' | 'retry' | 'failed' | 'blocked' | 'dead', seconds: number): void;
}

export interface EngineOptions<S> {
  readonly store: Store;
  readonly flows: readonly FlowDefinition<S>[];
  /** Services the flows read (the catalog, the texts): handed to each flow's `machine`. */
  readonly services: S;
  /** Outbound channels by name (`web`, `messenger`, …): replies go out through them. */
  readonly channels?: readonly Channel[];
  /** Handlers of other dispatched effects, such as `notify_crm`. */
  readonly handlers?: { readonly notify_crm?: EffectHandler<EffectOf<'notify_crm'>> };
  readonly logger?: Logger;
  readonly observer?: EngineObserver;
  /** Milliseconds since the epoch; tests drive it. */
  readonly clock?: () => number;
  /**
   * Events and effects the engine holds in memory before `ingest` waits for them to drain
   * (backpressure: the webhook's answer waits, nothing is refused or lost). 128 by default:
   * under saturation a reply then trails its event by about 128 events' worth of work.
   */
  readonly maxBacklog?: number;
  /** Sends in flight at once across all customers (each customer's replies stay in order). */
  readonly maxInFlight?: number;
  /** Delivery attempts before an effect is given up as dead: one number, or per effect type (12 by default). */
  readonly maxAttempts?: number | Partial<Record<DispatchedEffect['type'], number>>;
  /** First retry delay; doubled each attempt, with jitter, capped by `maxBackoffMs`. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * This instance's name in a shared store's leases (letters, digits, `_`, `.`, `-`); random
   * by default. Only a `shared` store (several instances on one database) reads it.
   */
  readonly instanceId?: string;
  /**
   * Shared store: how long a lease on an actor key or outbox lane lasts unless renewed, so
   * how long the work of an instance that died waits before another one takes it over
   * (15 s). Keep it well above the slowest send (the Graph API client gives up after 15 s;
   * a send still running is renewed, but a stalled process is not).
   */
  readonly leaseMs?: number;
  /** Shared store: how often to look for work no notice told about (expired leases, lost notices); 3 s. */
  readonly pollMs?: number;
  /**
   * How long to keep history: events processed or failed, messages sent or given up, tasks
   * that ran or were removed. Without it, everything is kept. Pending work, orders,
   * customers and conversations are always kept. An event id is deduplicated only while its
   * event is kept, so keep longer than a platform redelivers (WhatsApp: up to 7 days).
   */
  readonly retention?: RetentionOptions;
}

export interface IngestOptions {
  /**
   * Resolve only once the accepted events were processed (committed, or given up as
   * failed): a caller that must answer with the outcome, like the merchant API, reads the
   * state after. The engine must be started.
   */
  readonly wait?: boolean;
  /**
   * What an event that fails validation does: `reject` (the default) refuses the whole call
   * naming the field; `skip` stores the valid ones and counts the others in `skipped` — for
   * a platform's webhook, where one odd entry must not make the platform redeliver the
   * batch forever.
   */
  readonly invalid?: 'reject' | 'skip';
}

export interface IngestResult {
  /** Events stored now. */
  readonly accepted: number;
  /** Events whose id was stored before: acknowledged, not stored again. */
  readonly duplicates: number;
  /** With `invalid: 'skip'`: events that failed validation and were not stored. */
  readonly skipped?: number;
  /** With `wait`: accepted events whose processing failed. */
  readonly failed?: number;
}

export interface Engine {
  readonly store: Store;
  /** This instance's id in a shared store's leases (always set by `createEngine`). */
  readonly instanceId?: string;
  /**
   * Validates and durably stores events (deduplicated by id), then processes them in the
   * background. Resolves once they are stored: that is when a webhook may answer 200.
   * Throws `EngineError('BAD_REQUEST')` naming the field when an event is malformed.
   */
  ingest(events: readonly InboundEventInput[], options?: IngestOptions): Promise<IngestResult>;
  /** Picks up events and effects left by a previous run, and starts the scheduler. */
  start(): Promise<void>;
  /** Stops taking events and drains in-flight work (until `timeoutMs`); the store stays open. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Wakes the scheduler: a task was added outside a flow (the merchant API); resolves once due tasks fired. */
  tasksChanged(): Promise<void>;
  /** Resolves when nothing is queued or in flight (tests, the CLI's in-process chat). */
  idle(): Promise<void>;
  /** Sends again the effects of a type that were given up (failed); answers how many. */
  retryFailed(type: DispatchedEffect['type']): Promise<number>;
  /** Deletes the history older than `retention` now (it also runs at start and hourly); answers how many rows went (0 without retention). */
  pruneHistory(): Promise<number>;
  /** Channels whose credentials were refused, by name. */
  unhealthyChannels(): string[];
}
