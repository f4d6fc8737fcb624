import { conversationKey } from '../../core/ids.js';
import type { Commit, CommitResult, InboxItem, MessageStatusUpdate, OutboxItem } from '../../core/store.js';

/** A row `orderly_commit` answers. */
export interface CommitRow {
  readonly r_commit: number;
  readonly r_kind: 'lease' | 'conflict' | 'outbox' | 'inbox' | 'rev';
  readonly r_id: number | null;
  readonly r_name: string | null;
}

const conflict: CommitResult = Object.freeze({ ok: false, reason: 'conflict' });
const leaseLost: CommitResult = Object.freeze({ ok: false, reason: 'lease' });

/**
 * A batch of commits as the JSON `orderly_commit` reads. Payloads the store keeps as text
 * (snapshots, events, effects, order data) travel as JSON strings inside it, so that JSONB's
 * parsing of the batch never touches them.
 * @example await client.query(sql.commit, [encodeCommits(commits), null, null, null, channel])
 */
export function encodeCommits(commits: readonly Commit[]): string {
  return JSON.stringify(
    commits.map((c) => ({
      key: c.key,
      seq: c.seq,
      rev: c.expectedRev,
      flow: c.envelope.flowId,
      version: c.envelope.flowVersion,
      snapshot: JSON.stringify(c.envelope.snapshot ?? null),
      at: c.at,
      ...(c.customer ? { customer: c.customer } : {}),
      ...(c.customerSeenAt === undefined ? {} : { seen: c.customerSeenAt }),
      ...(c.completeTask === undefined ? {} : { task: c.completeTask }),
      outbox: c.outbox.map(({ lane, effect }) => ({
        lane,
        to: effect.type === 'reply' ? conversationKey(effect.to) : null,
        type: effect.type,
        effect: JSON.stringify(effect),
      })),
      inbox: c.inbox.map((event) => ({ id: event.id, key: event.key, event: JSON.stringify(event) })),
      orders: c.createOrders.map((order) => ({
        id: order.id,
        channel: order.customer.channel,
        account: order.customer.account,
        user: order.customer.user,
        total: order.total,
        currency: order.currency,
        data: JSON.stringify(order.data),
      })),
      updates: c.updateOrders,
      tasks: c.tasks.map((task) => ({ ...task.customer, command: task.command, due: task.dueAt })),
      statuses: (c.statuses ?? []).map(encodeStatus),
    })),
  );
}

/** A delivery status as `orderly_status` reads it. */
export function encodeStatus(update: MessageStatusUpdate): Record<string, unknown> {
  const common = {
    recipient: conversationKey(update.recipient),
    status: update.status,
    at: update.at,
    ...(update.error === undefined ? {} : { error: clean(update.error) }),
  };
  return 'platformId' in update ? { ...common, platformId: update.platformId } : { ...common, upTo: update.upTo };
}

/** Each commit's result, rebuilt from the ids and seqs `orderly_commit` answered and what the commit held. */
export function decodeResults(commits: readonly Commit[], rows: readonly CommitRow[]): CommitResult[] {
  const byCommit = commits.map(() => [] as CommitRow[]);
  for (const row of rows) byCommit[row.r_commit - 1]?.push(row);
  return commits.map((c, i) => {
    const own = byCommit[i]!;
    let rev = 0;
    const outboxIds: number[] = [];
    const seqs = new Map<string, number>();
    for (const row of own) {
      if (row.r_kind === 'lease') return leaseLost;
      if (row.r_kind === 'conflict') return conflict;
      if (row.r_kind === 'rev') rev = row.r_id!;
      else if (row.r_kind === 'outbox') outboxIds.push(row.r_id!);
      else seqs.set(row.r_name!, row.r_id!);
    }
    outboxIds.sort((a, b) => a - b);
    const outbox: OutboxItem[] = c.outbox.map((item, j) => ({
      id: outboxIds[j]!,
      lane: item.lane,
      effect: item.effect,
      status: 'pending',
      attempts: 0,
      availableAt: c.at,
      createdAt: c.at,
      history: [],
    }));
    const inbox: InboxItem[] = [];
    for (const event of c.inbox) {
      const seq = seqs.get(event.id);
      if (seq === undefined) continue;
      seqs.delete(event.id);
      inbox.push({ seq, event });
    }
    inbox.sort((a, b) => a.seq - b.seq);
    return { ok: true, rev, outbox, inbox };
  });
}

/** PostgreSQL text cannot hold NUL: error texts drop it. */
export function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}
