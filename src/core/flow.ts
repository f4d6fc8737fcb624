import type { AnyStateMachine } from 'xstate';
import type { Effect } from './effects.js';
import type { InboundEvent } from './events.js';
import type { ActorKey, Address } from './ids.js';

/** What a machine is started with when its actor is new. */
export interface FlowInput {
  readonly key: ActorKey;
  /** The customer, for actors that belong to one (absent for an order until its first event). */
  readonly address?: Address;
}

/**
 * A flow: an XState machine that serves one kind of actor key, with a version so that
 * stored snapshots of an older machine are migrated or restarted, never crash the engine.
 *
 * `machine` is built once per engine with the services the engine was given (a catalog,
 * texts), so the machine stays pure: it reads data from them and emits effects.
 */
export interface FlowDefinition<S = unknown> {
  readonly id: string;
  /** Bump it when a stored snapshot of the previous machine would no longer fit. */
  readonly version: number;
  /** The actor-key kind this flow serves: `conv`, `order`, or a kind of your own. */
  readonly kind: string;
  /**
   * `customer` flows have one actor per customer (`<kind>:<channel>:<account>:<user>`); a
   * button whose payload is `@<kind>|<payload>` reaches this flow instead of the conversation.
   */
  readonly scope?: 'customer';
  /** Event types told to a customer's conversation that this customer flow receives too. */
  readonly subscribe?: readonly InboundEvent['type'][];
  readonly machine: (services: S) => AnyStateMachine;
  /**
   * Turns a persisted snapshot of `fromVersion` into one for `version`, or answers `null`
   * when it cannot (the actor then restarts at the initial state, with `restartNotice`).
   */
  readonly migrate?: (snapshot: unknown, fromVersion: number) => unknown;
  /** Effects sent when a stored snapshot could not be used and the actor restarted. */
  readonly restartNotice?: (event: InboundEvent, services: S) => Effect[];
}

/**
 * Declares a flow. A plain function so that the types of `machine`'s services flow through.
 * @example
 * export const ratingFlow = defineFlow({
 *   id: 'rating', version: 1, kind: 'rating', scope: 'customer', subscribe: ['order_update'],
 *   machine: ({ texts }: Services) => ratingMachine(texts),
 * });
 */
export function defineFlow<S>(definition: FlowDefinition<S>): FlowDefinition<S> {
  if (!/^[a-z][a-z0-9_-]*$/.test(definition.kind)) {
    throw new TypeError(`flow ${definition.id}: kind must be lowercase letters, digits, - or _`);
  }
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new TypeError(`flow ${definition.id}: version must be a positive integer`);
  }
  return definition;
}
