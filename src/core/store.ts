import type { DispatchedEffect } from './effects.js';
import type { InboundEvent } from './events.js';
import { conversationKey, type ActorKey, type Address, type OrderId } from './ids.js';

/**
 * The durable store port. Every method is a promise so that a networked database can
 * implement it; the embedded ones answer at once. One conformance suite
 * (`test/stores/conformance.ts`) runs against every implementation.
 */

/** A stored inbound event. `seq` is the arrival order across the whole inbox. */
export interface InboxItem {
  readonly seq: number;
  readonly event: InboundEvent;
}

/** A persisted actor: XState's persisted snapshot in a versioned envelope. */
export interface SnapshotEnvelope {
  readonly flowId: string;
  readonly flowVersion: number;
  /** Incremented by every save; a save names the revision it read (optimistic concurrency). */
  readonly rev: number;
  readonly snapshot: unknown;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'blocked';

/** An effect waiting in, or gone through, the outbox. Reply rows are the message log. */
export interface OutboxItem {
  readonly id: number;
  /** Effects of one lane go out one at a time, in id order (a customer's replies keep their order). */
  readonly lane: string;
  readonly effect: DispatchedEffect;
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** Milliseconds since the epoch: not before this. */
  readonly availableAt: number;
  readonly createdAt: number;
  /** The platform's id for a sent message. */
  readonly platformId?: string;
  readonly error?: string;
  /** Delivery history of a sent message: sent, delivered, read, failed, with times. */
  readonly history: readonly { status: string; at: number; error?: string }[];
}

/** An order's status and paid flag after one change, and when it happened. */
export interface OrderHistoryEntry {
  readonly status: number;
  readonly paid: boolean;
  readonly at: number;
}

export interface OrderRecord {
  readonly id: OrderId;
  readonly customer: Address;
  readonly customerId: number;
  readonly status: number;
  readonly paid: boolean;
  readonly total: number;
  readonly currency: string;
  /** The order model as commerce wrote it (items, delivery, recipient, sums). */
  readonly data: Record<string, unknown>;
  readonly createdAt: number;
  readonly updatedAt: number;
  /**
   * Every change of status or paid flag since the order was created, oldest first (the
   * store keeps it, whatever wrote the row). A status reached once stays in it, so a call
   * can tell it was applied even after another one moved the order further.
   */
  readonly history: readonly OrderHistoryEntry[];
}

export interface CustomerRecord {
  /** The merchant-facing `user_id`. */
  readonly id: number;
  readonly address: Address;
  readonly createdAt: number;
  /** When the customer last wrote (ms): channels with a messaging window read it. */
  readonly lastInboundAt?: number;
}

export const taskStatus = { waiting: 0, done: 1, removed: 2, failed: 3 } as const;
export type TaskStatus = (typeof taskStatus)[keyof typeof taskStatus];

export interface TaskRecord {
  readonly id: number;
  readonly customer: Address;
  readonly command: string;
  /** Milliseconds since the epoch. */
  readonly dueAt: number;
  readonly status: TaskStatus;
  /** When the task was handed to the conversation (it can no longer be removed). */
  readonly firedAt?: number;
  readonly doneAt?: number;
}

export interface NewOrder {
  readonly id: OrderId;
  readonly customer: Address;
  readonly total: number;
  readonly currency: string;
  readonly data: Record<string, unknown>;
}

export interface NewOutboxItem {
  readonly lane: string;
  readonly effect: DispatchedEffect;
}

/**
 * What a platform says happened to messages the shop sent to `recipient`: one by the
 * platform's id, or all up to a time. A message is looked up by its platform id among the
 * recipient's messages, newest first: the platform's ids are random, and an index of them
 * alone would cost a random write per message sent.
 */
export type MessageStatusUpdate = { readonly recipient: Address; readonly status: string; readonly at: number; readonly error?: string } & (
  | { readonly platformId: string }
  | { readonly upTo: number }
);

/** Everything one processed event changes, written in one transaction. */
export interface Commit {
  readonly key: ActorKey;
  /** The inbox row this commit marks done. */
  readonly seq: number;
  /** The revision that was loaded (0 when the actor was new). */
  readonly expectedRev: number;
  readonly envelope: Omit<SnapshotEnvelope, 'rev'>;
  readonly outbox: readonly NewOutboxItem[];
  /** Events for other actors (a `tell`, an `order_created`), deduplicated like any inbound event. */
  readonly inbox: readonly InboundEvent[];
  readonly createOrders: readonly NewOrder[];
  readonly updateOrders: readonly { id: OrderId; status?: number; paid?: boolean }[];
  readonly tasks: readonly { customer: Address; command: string; dueAt: number }[];
  /**
   * Delivery statuses to record in the message log. `upTo` touches the messages to that
   * recipient created up to then that are `sent` and do not have that status yet.
   */
  readonly statuses?: readonly MessageStatusUpdate[];
  /** The task whose `task_due` event this commit handles; it becomes done. */
  readonly completeTask?: number;
  /** The customer this event came from: created on the first one. */
  readonly customer?: Address;
  /**
   * Set when the customer wrote this event themselves: their last inbound time, kept at the
   * latest. A store may keep it up to a minute behind (never ahead), so as not to write the
   * customer's row for every message: a 24-hour window then closes at most a minute early.
   */
  readonly customerSeenAt?: number;
  readonly at: number;
}

export type CommitResult =
  | { readonly ok: true; readonly rev: number; readonly outbox: readonly OutboxItem[]; readonly inbox: readonly InboxItem[] }
  /** `conflict`: the revision moved on; `lease`: the committing owner no longer holds the key's lease. */
  | { readonly ok: false; readonly reason: 'conflict' | 'lease' };

/**
 * A lease on actor keys or outbox lanes: who holds it (an engine instance's id) and for how
 * long from now. The store's own clock (the database's, for a networked store) decides when
 * a lease has expired, so instances on machines with skewed clocks still agree.
 */
export interface Lease {
  readonly owner: string;
  readonly ms: number;
}

/** How a write renews the leases it relies on: `keep` is extended by `ms`, `release` given up. */
export interface LeaseRenewal extends Lease {
  readonly keep?: readonly string[];
  readonly release?: readonly string[];
}

/** An actor key leased by `claimKeys`: the actor as stored and all its pending events. */
export interface ClaimedKey {
  readonly key: ActorKey;
  readonly envelope: SnapshotEnvelope | null;
  /** Every event of the key not yet done, in seq order. */
  readonly pending: readonly InboxItem[];
}

/** An outbox lane leased by `claimLanes`, with all its pending rows in id order. */
export interface ClaimedLane {
  readonly lane: string;
  readonly pending: readonly OutboxItem[];
}

/**
 * What a shared store tells the instances watching it: `from` (an owner) could not claim a
 * key with pending events (`inbox`) or a lane with pending rows (`outbox`), so its holder
 * should look; a task is due at `at` (`tasks`); `resync` after notices may have been lost
 * (a reconnect): look at everything.
 */
export type StoreNotice =
  | { readonly topic: 'inbox'; readonly from?: string; readonly key?: ActorKey }
  | { readonly topic: 'outbox'; readonly from?: string; readonly lane?: string }
  | { readonly topic: 'tasks'; readonly at?: number }
  | { readonly topic: 'resync' };

/** Where `pruneHistory` goes on from in each table: the last id it looked at (0: the start). */
export interface HistoryCursor {
  readonly inbox: number;
  readonly outbox: number;
  readonly tasks: number;
}

export interface PruneResult {
  /** Rows deleted by this call, all tables together. */
  readonly deleted: number;
  readonly next: HistoryCursor;
  /** Every table reached its rows not older than `before` (or its end): nothing more to prune now. */
  readonly done: boolean;
}

export interface ListOrdersQuery {
  readonly status?: number;
  readonly limit: number;
  /** Orders with an id greater than this (paging). */
  readonly after?: number;
}

export interface Store {
  /**
   * True when several engine instances (processes) may work on this store at once: the
   * engine then leases actor keys and outbox lanes before it works on them (`claimKeys`,
   * `claimLanes`), passes its lease to `commit` and `markSent`, and watches for work other
   * instances leave to it. A store that one process owns (memory, SQLite) leaves it unset,
   * and the engine makes none of those calls: its hot path has no lease writes.
   */
  readonly shared?: boolean;

  /** Stores new events; an event whose id is already stored is skipped. Answers what was new. */
  append(events: readonly InboundEvent[]): Promise<InboxItem[]>;
  /**
   * Events not yet done, in arrival order, after `afterSeq`. With `owner`: only those whose
   * key is not leased to another owner (free, expired, or the owner's own).
   */
  pending(afterSeq: number, limit: number, owner?: string): Promise<InboxItem[]>;
  /** Marks an event that cannot be processed as failed, with the reason, so its actor moves on. */
  fail(seq: number, reason: string): Promise<void>;

  load(key: ActorKey): Promise<SnapshotEnvelope | null>;
  /**
   * Applies each commit in its own transaction-safe unit, all in one transaction where the store can.
   * With `lease`, a commit whose key is not leased to `lease.owner` answers `lease`, and one
   * whose event is no longer pending answers `conflict`, writing nothing; the keys of applied
   * commits are extended by `lease.ms`, except those in `lease.release`, which are given up.
   */
  commit(commits: readonly Commit[], lease?: LeaseRenewal): Promise<CommitResult[]>;

  /**
   * Outbox rows still to dispatch, in id order. With `owner`: only rows whose lane is not
   * leased to another owner.
   */
  pendingOutbox(afterId: number, limit: number, owner?: string): Promise<OutboxItem[]>;
  /**
   * Marks rows sent. With `lease`: the owner's leases on `keep` lanes are extended, on
   * `release` lanes given up. Answers the `keep` lanes the owner still held (none without a lease).
   */
  markSent(results: readonly { id: number; platformId?: string; at: number }[], lease?: LeaseRenewal): Promise<string[]>;
  markRetry(id: number, availableAt: number, error: string): Promise<void>;
  markFailed(id: number, status: 'failed' | 'blocked', error: string, at: number): Promise<void>;
  /**
   * Puts failed effects of one type back to pending (attempts 0, available at `at`), in
   * id order, up to `limit`: the merchant retries notifications that were given up.
   */
  requeueFailed(type: DispatchedEffect['type'], at: number, limit: number): Promise<OutboxItem[]>;
  /** Records what the platform says happened to sent messages; answers whether any was found. */
  messageStatus(update: MessageStatusUpdate): Promise<boolean>;
  getOutbox(id: number): Promise<OutboxItem | null>;
  /** The messages sent to one customer, newest last, with id greater than `afterId`. */
  messagesTo(address: Address, afterId: number, limit: number): Promise<OutboxItem[]>;

  allocateOrderIds(count: number): Promise<OrderId[]>;
  getOrder(id: OrderId): Promise<OrderRecord | null>;
  listOrders(query: ListOrdersQuery): Promise<OrderRecord[]>;

  findCustomer(address: Omit<Address, 'account'> & { account?: string }): Promise<CustomerRecord | null>;
  getCustomer(id: number): Promise<CustomerRecord | null>;

  addTask(task: { customer: Address; command: string; dueAt: number }): Promise<TaskRecord>;
  /** Removes a waiting task that has not fired; answers false when it is gone or already ran. */
  removeTask(id: number): Promise<boolean>;
  getTask(id: number): Promise<TaskRecord | null>;
  /**
   * Fires waiting tasks due by `now`, in due order: marks each fired and appends its
   * `taskDueEvent` to the inbox in the same transaction. Answers the appended events.
   */
  fireDueTasks(now: number, limit: number): Promise<InboxItem[]>;
  /** The due time of the earliest waiting task that has not fired. */
  nextTaskAt(): Promise<number | null>;

  /**
   * Leases actor keys to `lease.owner` for `lease.ms`: a key is taken when it is free, its
   * lease expired, or the owner holds it already (then it is extended). Answers the keys
   * taken, each with its stored actor and pending events; the others are held by someone else.
   */
  claimKeys(keys: readonly ActorKey[], lease: Lease): Promise<ClaimedKey[]>;
  /** Leases outbox lanes as `claimKeys` leases keys; answers each lane taken with its pending rows. */
  claimLanes(lanes: readonly string[], lease: Lease): Promise<ClaimedLane[]>;
  /** Extends the owner's leases it still holds; answers the names still held. */
  renewLeases(lease: Lease, names: { readonly keys?: readonly string[]; readonly lanes?: readonly string[] }): Promise<string[]>;
  /** Gives up the owner's leases: the named ones, or all of them. */
  releaseLeases(owner: string, names?: { readonly keys?: readonly string[]; readonly lanes?: readonly string[] }): Promise<void>;
  /** The events of `seqs` that are settled, with how: an instance waits for an event another one processes. */
  outcomes(seqs: readonly number[]): Promise<{ seq: number; outcome: 'done' | 'failed' }[]>;
  /**
   * Deletes history older than `before`: inbox events processed or failed before then,
   * outbox rows created before then and no longer pending (the message log: sent, failed,
   * blocked), and tasks that ran, failed or were removed before then. Each table is walked
   * in id order after its cursor in `from`, at most `limit` rows of each per call, and only
   * as far as its rows were created before `before`. Pending events and sends, waiting
   * tasks, orders, customers and conversations are never deleted. Optional: the engine
   * prunes only a store that has it.
   */
  pruneHistory?(before: number, from: HistoryCursor, limit: number): Promise<PruneResult>;
  /**
   * Calls `listener` with what other instances leave to this one (only a shared store has
   * it). Answers the function that stops listening.
   */
  watch?(listener: (notice: StoreNotice) => void): () => void;

  close(): Promise<void>;
}

/** The inbox event that runs a due task in its customer's conversation. */
export function taskDueEvent(task: TaskRecord): InboundEvent {
  return {
    type: 'task_due',
    id: `task:${task.id}`,
    key: conversationKey(task.customer),
    at: task.dueAt,
    address: task.customer,
    taskId: task.id,
    command: task.command,
  };
}
