import type { DispatchedEffect } from '../../core/effects.js';
import { conversationKey, type Address } from '../../core/ids.js';
import type { MessageStatusUpdate, NewOutboxItem, OutboxItem } from '../../core/store.js';
import { prunedFromMap, type TablePruned } from '../prune.js';
import { firstAbove } from './first-above.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Rows keep JSON as text, like SQLite, so that what a caller gets back is always a fresh copy.
type OutboxRow = Omit<Mutable<OutboxItem>, 'effect' | 'history'> & {
  readonly effect: string;
  readonly history: { status: string; at: number; error?: string }[];
};

/**
 * The memory store's outbox, whose reply rows are the message log: the rows with their
 * statuses and delivery history, the pending ones, and each recipient's messages in id
 * order (the message log, and where a platform's delivery status finds its message).
 * @example
 * const outbox = new MemoryOutbox();
 * const item = outbox.insert({ lane, effect }, JSON.stringify(effect), Date.now());
 */
export class MemoryOutbox {
  #last = 0;
  // Maps keep insertion order, and ids only grow: these iterate in id order.
  readonly #rows = new Map<number, OutboxRow>();
  readonly #pending = new Set<number>();
  readonly #byRecipient = new Map<string, number[]>();

  insert(item: NewOutboxItem, json: string, at: number): OutboxItem {
    const id = ++this.#last;
    const fresh = { id, lane: item.lane, status: 'pending', attempts: 0, availableAt: at, createdAt: at } as const;
    this.#rows.set(id, { ...fresh, effect: json, history: [] });
    this.#pending.add(id);
    if (item.effect.type === 'reply') push(this.#byRecipient, conversationKey(item.effect.to), id);
    return { ...fresh, effect: item.effect, history: [] };
  }

  /** Pending rows after `afterId`, in id order; with `open`, only those of the lanes it lets through. */
  pending(afterId: number, limit: number, open?: (lane: string) => boolean): OutboxItem[] {
    if (open === undefined) return this.#page(this.#pending, afterId, limit);
    const ids = [...this.#pending].filter((id) => open(this.#rows.get(id)!.lane));
    return this.#page(ids, afterId, limit);
  }

  /** Every pending row of one lane, in id order. */
  pendingIn(lane: string): OutboxItem[] {
    const ids = [...this.#pending].filter((id) => this.#rows.get(id)!.lane === lane);
    return this.#page(ids, 0, ids.length);
  }

  markSent(results: readonly { id: number; platformId?: string; at: number }[]): void {
    for (const { id, platformId, at } of results) {
      const row = this.#rows.get(id);
      if (!row) continue;
      row.status = 'sent';
      this.#pending.delete(id);
      if (platformId !== undefined) row.platformId = platformId;
      appendHistory(row, 'sent', at);
    }
  }

  markRetry(id: number, availableAt: number, error: string): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.attempts += 1;
    row.availableAt = availableAt;
    row.error = error;
  }

  markFailed(id: number, status: 'failed' | 'blocked', error: string, at: number): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.status = status;
    row.error = error;
    this.#pending.delete(id);
    appendHistory(row, status, at, error);
  }

  requeueFailed(type: DispatchedEffect['type'], at: number, limit: number): OutboxItem[] {
    const again: OutboxItem[] = [];
    for (const row of this.#rows.values()) {
      if (again.length >= limit) break;
      if (row.status !== 'failed' || (JSON.parse(row.effect) as DispatchedEffect).type !== type) continue;
      row.status = 'pending';
      row.attempts = 0;
      row.availableAt = at;
      this.#pending.add(row.id);
      again.push(toOutbox(row));
    }
    return again;
  }

  /** Records a delivery status; answers how many messages it touched. */
  applyStatus(update: MessageStatusUpdate): number {
    const { status, at, error } = update;
    if (!('platformId' in update)) {
      const rows = (this.#byRecipient.get(conversationKey(update.recipient)) ?? [])
        .map((id) => this.#rows.get(id)!)
        .filter((row) => row.status === 'sent' && row.createdAt <= update.upTo && !row.history.some((h) => h.status === status));
      for (const row of rows) appendHistory(row, status, at, error);
      return rows.length;
    }
    // The recipient's newest message with that platform id, as the SQL stores look it up.
    const theirs = this.#byRecipient.get(conversationKey(update.recipient)) ?? [];
    const id = theirs.findLast((candidate) => this.#rows.get(candidate)!.platformId === update.platformId);
    if (id === undefined) return 0;
    const row = this.#rows.get(id)!;
    if (status === 'failed') {
      row.status = 'failed';
      if (error !== undefined) row.error = error;
      this.#pending.delete(id);
    }
    appendHistory(row, status, at, error);
    return 1;
  }

  get(id: number): OutboxItem | null {
    const row = this.#rows.get(id);
    return row === undefined ? null : toOutbox(row);
  }

  /** The messages sent to one customer, newest last, with id greater than `afterId`. */
  messagesTo(address: Address, afterId: number, limit: number): OutboxItem[] {
    const ids = this.#byRecipient.get(conversationKey(address)) ?? [];
    const from = firstAbove(ids, afterId);
    return ids.slice(from, from + Math.max(0, limit)).map((id) => toOutbox(this.#rows.get(id)!));
  }

  /** `pruneHistory` of the outbox: rows no longer pending, created before `before`. */
  prune(after: number, before: number, limit: number): TablePruned {
    return prunedFromMap(
      this.#rows,
      { after, before, limit },
      (row) => row.createdAt,
      (row) => row.status !== 'pending' && row.createdAt < before,
      (row) => {
        const effect = JSON.parse(row.effect) as DispatchedEffect;
        if (effect.type !== 'reply') return;
        const key = conversationKey(effect.to);
        const ids = this.#byRecipient.get(key)!.filter((id) => id !== row.id);
        if (ids.length > 0) this.#byRecipient.set(key, ids);
        else this.#byRecipient.delete(key);
      },
    );
  }

  #page(ids: Iterable<number>, afterId: number, limit: number): OutboxItem[] {
    const found: OutboxItem[] = [];
    for (const id of ids) {
      if (found.length >= limit) break;
      if (id > afterId) found.push(toOutbox(this.#rows.get(id)!));
    }
    return found;
  }
}

function appendHistory(row: OutboxRow, status: string, at: number, error?: string): void {
  row.history.push(error === undefined ? { status, at } : { status, at, error });
}

function toOutbox(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    lane: row.lane,
    effect: JSON.parse(row.effect) as DispatchedEffect,
    status: row.status,
    attempts: row.attempts,
    availableAt: row.availableAt,
    createdAt: row.createdAt,
    ...(row.platformId === undefined ? {} : { platformId: row.platformId }),
    ...(row.error === undefined ? {} : { error: row.error }),
    history: row.history.map((entry) => ({ ...entry })),
  };
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
