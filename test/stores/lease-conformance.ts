import { describe, expect, it } from 'vitest';
import type { DispatchedEffect } from '../../src/core/effects.js';
import type { EventOf } from '../../src/core/events.js';
import { conversationKey, type ActorKey, type Address } from '../../src/core/ids.js';
import type { Commit, InboxItem, Store, StoreNotice } from '../../src/core/store.js';

const carol: Address = { channel: 'test', account: 'shop', user: 'carol' };
const dave: Address = { channel: 'test', account: 'shop', user: 'dave' };
const a = { owner: 'instance-a', ms: 60_000 };
const b = { owner: 'instance-b', ms: 60_000 };

const text = (id: string, from: Address): EventOf<'text'> => ({ type: 'text', id, key: conversationKey(from), at: 1, address: from, text: id });
const reply = (to: Address, body: string): DispatchedEffect => ({ type: 'reply', to, message: { kind: 'text', text: body } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function commitFor(item: InboxItem, changes: Partial<Commit> = {}): Commit {
  return {
    key: item.event.key,
    seq: item.seq,
    expectedRev: 0,
    envelope: { flowId: 'shop', flowVersion: 1, snapshot: { seen: item.seq } },
    outbox: [],
    inbox: [],
    createOrders: [],
    updateOrders: [],
    tasks: [],
    at: 10,
    ...changes,
  };
}

export interface LeaseConformanceOptions {
  /**
   * A second handle on the same database as the store under test. Stores owned by one
   * process (memory, SQLite) keep their leases in that process and have none: the tests
   * across handles are skipped for them, as Hono's router suite skips what a router cannot do.
   */
  readonly another?: (store: Store) => Promise<Store>;
}

/**
 * The lease methods every store implements, run inside `storeConformance`. Single-process
 * stores keep leases in memory; the engine only calls them on a `shared` store.
 */
export function leaseConformance(current: () => Store, options: LeaseConformanceOptions = {}): void {
  describe('leases', () => {
    const key = conversationKey(carol);

    it('leases a free key with its actor and pending events in seq order, and refuses it to another owner', async () => {
      const store = current();
      const [first, , second] = await store.append([text('c1', carol), text('d1', dave), text('c2', carol)]);
      await store.commit([commitFor(first!)]);
      const [claimed] = await store.claimKeys([key, key], a);
      expect(claimed).toEqual({ key, envelope: { flowId: 'shop', flowVersion: 1, rev: 1, snapshot: { seen: first!.seq } }, pending: [second] });
      expect(await store.claimKeys([key], b)).toEqual([]);
      expect((await store.claimKeys([key], a)).map((c) => c.key)).toEqual([key]);
      const fresh = conversationKey({ ...carol, user: 'nobody' });
      expect(await store.claimKeys([fresh], b)).toEqual([{ key: fresh, envelope: null, pending: [] }]);
    });

    it('lets another owner take over a lease that expired', async () => {
      const store = current();
      expect(await store.claimKeys([key], { owner: a.owner, ms: 30 })).toHaveLength(1);
      expect(await store.claimKeys([key], b)).toEqual([]);
      await sleep(80);
      expect((await store.claimKeys([key], b)).map((c) => c.key)).toEqual([key]);
      expect(await store.claimKeys([key], a)).toEqual([]);
    });

    it('refuses the commit of an owner that lost the lease, writing nothing of it, and renews or releases the others', async () => {
      const store = current();
      const [c1, d1, d2] = await store.append([text('c1', carol), text('d1', dave), text('d2', dave)]);
      const daveKey = conversationKey(dave);
      await store.claimKeys([key], b);
      await store.claimKeys([daveKey], a);
      const results = await store.commit(
        [commitFor(c1!, { outbox: [{ lane: key, effect: reply(carol, 'never') }] }), commitFor(d1!)],
        { ...a, release: [] },
      );
      expect(results[0]).toEqual({ ok: false, reason: 'lease' });
      expect(results[1]).toMatchObject({ ok: true, rev: 1 });
      expect(await store.load(key)).toBeNull();
      expect(await store.pendingOutbox(0, 10)).toEqual([]);
      expect(await store.claimKeys([daveKey], b)).toEqual([]);
      await store.commit([commitFor(d2!, { expectedRev: 1 })], { ...a, release: [daveKey] });
      expect((await store.claimKeys([daveKey], b)).map((c) => c.key)).toEqual([daveKey]);
    });

    it('refuses, under a lease, to commit an event that is no longer pending', async () => {
      const store = current();
      const [c1] = await store.append([text('c1', carol)]);
      await store.claimKeys([key], a);
      expect(await store.commit([commitFor(c1!)], a)).toMatchObject([{ ok: true, rev: 1 }]);
      const again = await store.commit([commitFor(c1!, { expectedRev: 1, outbox: [{ lane: key, effect: reply(carol, 'twice') }] })], a);
      expect(again).toEqual([{ ok: false, reason: 'conflict' }]);
      expect(await store.load(key)).toMatchObject({ rev: 1 });
      expect(await store.pendingOutbox(0, 10)).toEqual([]);
    });

    it('lists pending events and outbox rows that no other owner holds', async () => {
      const store = current();
      const [c1, d1] = await store.append([text('c1', carol), text('d1', dave)]);
      const [row] = (
        await store.commit([commitFor(d1!, { outbox: [{ lane: 'lane-1', effect: reply(dave, 'hi') }, { lane: 'lane-2', effect: reply(dave, 'yo') }] })])
      ).flatMap((r) => (r.ok ? r.outbox : []));
      await store.claimKeys([key], b);
      await store.claimLanes(['lane-2'], b);
      expect(await store.pending(0, 10, a.owner)).toEqual([]);
      expect(await store.pending(0, 10, b.owner)).toEqual([c1]);
      expect(await store.pending(0, 10)).toEqual([c1]);
      expect((await store.pendingOutbox(0, 10, a.owner)).map((o) => o.id)).toEqual([row!.id]);
      expect(await store.pendingOutbox(0, 10, b.owner)).toHaveLength(2);
    });

    it('leases lanes with their pending rows, and marks rows sent while renewing and releasing lanes', async () => {
      const store = current();
      const [d1] = await store.append([text('d1', dave)]);
      const [result] = await store.commit([
        commitFor(d1!, {
          outbox: [
            { lane: 'lane-1', effect: reply(dave, 'one') },
            { lane: 'lane-2', effect: reply(dave, 'two') },
            { lane: 'lane-1', effect: reply(dave, 'three') },
          ],
        }),
      ]);
      const rows = result!.ok ? result!.outbox : [];
      const claimed = await store.claimLanes(['lane-1', 'lane-2', 'lane-1'], a);
      expect(claimed.map((c) => [c.lane, c.pending.map((o) => o.id)])).toEqual([
        ['lane-1', [rows[0]!.id, rows[2]!.id]],
        ['lane-2', [rows[1]!.id]],
      ]);
      expect(claimed[0]!.pending[0]).toEqual(await store.getOutbox(rows[0]!.id));
      expect(await store.claimLanes(['lane-1'], b)).toEqual([]);
      expect(await store.markSent([{ id: rows[1]!.id, at: 5 }], { ...a, keep: ['lane-1', 'lane-3'], release: ['lane-2'] })).toEqual(['lane-1']);
      expect(await store.markSent([])).toEqual([]);
      expect(await store.getOutbox(rows[1]!.id)).toMatchObject({ status: 'sent' });
      expect(await store.claimLanes(['lane-1'], b)).toEqual([]);
      expect(await store.claimLanes(['lane-2'], b)).toEqual([{ lane: 'lane-2', pending: [] }]);
    });

    it('renews only the leases an owner still holds, and releases all of them', async () => {
      const store = current();
      await store.claimKeys([key], a);
      await store.claimLanes(['lane-1'], a);
      await store.claimLanes(['lane-2'], b);
      expect((await store.renewLeases(a, { keys: [key], lanes: ['lane-1', 'lane-2'] })).sort()).toEqual([key, 'lane-1'].sort());
      await store.releaseLeases(a.owner);
      expect(await store.claimKeys([key], b)).toHaveLength(1);
      expect(await store.claimLanes(['lane-1'], b)).toHaveLength(1);
      await store.releaseLeases(b.owner, { lanes: ['lane-1'] });
      expect(await store.claimLanes(['lane-1', 'lane-2'], a)).toEqual([{ lane: 'lane-1', pending: [] }]);
      expect(await store.renewLeases(b, { keys: [key] })).toEqual([key]);
    });

    it('answers how events were settled, leaving out the pending ones', async () => {
      const store = current();
      const [c1, d1, d2] = await store.append([text('c1', carol), text('d1', dave), text('d2', dave)]);
      await store.commit([commitFor(c1!)]);
      await store.fail(d1!.seq, 'broken');
      const outcomes = await store.outcomes([c1!.seq, d1!.seq, d2!.seq, 999_999]);
      expect([...outcomes].sort((x, y) => x.seq - y.seq)).toEqual([
        { seq: c1!.seq, outcome: 'done' },
        { seq: d1!.seq, outcome: 'failed' },
      ]);
      expect(await store.outcomes([])).toEqual([]);
    });

    describe.skipIf(!options.another)('across two handles on one database', () => {
      it('sees a lease taken through the other handle, and tells a watcher what it could not claim', async () => {
        const store = current();
        const other = await options.another!(store);
        try {
          const notices: StoreNotice[] = [];
          const stop = store.watch?.((notice) => notices.push(notice));
          await sleep(200);
          await store.claimKeys([key], a);
          expect(await other.claimKeys([key], b)).toEqual([]);
          expect(await other.claimLanes(['lane-x'], b)).toHaveLength(1);
          expect(await store.claimLanes(['lane-x'], a)).toEqual([]);
          await other.addTask({ customer: carol, command: 'menu', dueAt: 4_242 });
          for (let i = 0; i < 50 && notices.length < 3; i++) await sleep(20);
          stop?.();
          expect(notices).toEqual(
            expect.arrayContaining([
              { topic: 'inbox', from: b.owner, key: key as ActorKey },
              { topic: 'outbox', from: a.owner, lane: 'lane-x' },
              { topic: 'tasks', at: 4_242 },
            ]),
          );
        } finally {
          await other.close();
        }
      });
    });
  });
}
