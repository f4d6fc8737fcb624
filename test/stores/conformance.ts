import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DispatchedEffect } from '../../src/core/effects.js';
import { EngineError } from '../../src/core/errors.js';
import type { EventOf, InboundEvent } from '../../src/core/events.js';
import { conversationKey, orderKey, type ActorKey, type Address, type OrderId } from '../../src/core/ids.js';
import {
  taskDueEvent,
  taskStatus,
  type Commit,
  type CommitResult,
  type InboxItem,
  type Store,
} from '../../src/core/store.js';
import { leaseConformance, type LeaseConformanceOptions } from './lease-conformance.js';

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const bob: Address = { channel: 'test', account: 'shop', user: 'bob' };
const aliceElsewhere: Address = { channel: 'test', account: 'other-shop', user: 'alice' };

function text(id: string, from: Address = alice, at = 1_000): EventOf<'text'> {
  return { type: 'text', id, key: conversationKey(from), at, address: from, text: `message ${id}` };
}

function reply(to: Address, body: string): DispatchedEffect {
  return { type: 'reply', to, message: { kind: 'text', text: body } };
}

function commitFor(item: InboxItem, changes: Partial<Commit> = {}): Commit {
  return {
    key: item.event.key,
    seq: item.seq,
    expectedRev: 0,
    envelope: { flowId: 'shop', flowVersion: 1, snapshot: { value: 'idle', context: { seen: item.seq } } },
    outbox: [],
    inbox: [],
    createOrders: [],
    updateOrders: [],
    tasks: [],
    at: 2_000,
    ...changes,
  };
}

/** A key of its own for a commit, so it never meets another commit's revision. */
function own(id: string): ActorKey {
  return `test:${id}` as ActorKey;
}

function applied(result: CommitResult | undefined) {
  if (!result?.ok) throw new Error(`expected the commit to apply, got ${JSON.stringify(result)}`);
  return result;
}

/**
 * The behaviour every `Store` must have. Each implementation's test file calls this with a
 * factory that answers a fresh, empty store; the suite closes it after each test.
 */
export function storeConformance(name: string, open: () => Promise<Store> | Store, options: LeaseConformanceOptions = {}): void {
  describe(`${name} store conformance`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function appendOne(event: InboundEvent): Promise<InboxItem> {
      const [item] = await store.append([event]);
      if (!item) throw new Error(`${event.id} was not stored`);
      return item;
    }

    describe('append and pending', () => {
      it('answers new events with seqs that increase in arrival order', async () => {
        const items = await store.append([text('a'), text('b'), text('c', bob)]);
        expect(items.map((i) => i.event.id)).toEqual(['a', 'b', 'c']);
        expect(items[0]!.seq).toBeLessThan(items[1]!.seq);
        expect(items[1]!.seq).toBeLessThan(items[2]!.seq);
        const later = await store.append([text('d')]);
        expect(later[0]!.seq).toBeGreaterThan(items[2]!.seq);
      });

      it('stores an id once within one batch and across calls, answering only what was new', async () => {
        const first = await store.append([text('a'), text('a'), text('b')]);
        expect(first.map((i) => i.event.id)).toEqual(['a', 'b']);
        const second = await store.append([text('b'), text('c'), text('a')]);
        expect(second.map((i) => i.event.id)).toEqual(['c']);
        expect((await store.pending(0, 100)).map((i) => i.event.id)).toEqual(['a', 'b', 'c']);
      });

      it('round-trips events exactly', async () => {
        const events: InboundEvent[] = [
          { ...text('unicode'), text: 'Привет 👋 "quoted" \\ back\nslash' },
          {
            type: 'cart_order',
            id: 'cart',
            key: conversationKey(alice),
            at: 1_700_000_000_123,
            address: alice,
            items: [{ ref: 'sku-1', quantity: 2, price: 1_250, currency: 'EUR' }, { ref: 'sku-2', quantity: 1 }],
          },
          { type: 'order_created', id: 'oc', key: orderKey(7), at: 5, orderId: 7, order: { nested: { list: [1, null, 'x'] } } },
        ];
        const stored = await store.append(events);
        expect(stored.map((i) => i.event)).toEqual(events);
        expect((await store.pending(0, 10)).map((i) => i.event)).toEqual(events);
      });

      it('lists pending events after a seq, in seq order, up to the limit', async () => {
        const items = await store.append([text('a'), text('b'), text('c'), text('d')]);
        const page = await store.pending(items[0]!.seq, 2);
        expect(page).toEqual([items[1], items[2]]);
        expect(await store.pending(items[3]!.seq, 10)).toEqual([]);
      });

      it('drops a failed event from pending and leaves the others', async () => {
        const [a, b] = await store.append([text('a'), text('b')]);
        await store.fail(a!.seq, 'flow crashed');
        expect(await store.pending(0, 10)).toEqual([b]);
      });
    });

    describe('load and commit', () => {
      it('answers null for an actor never saved', async () => {
        expect(await store.load(conversationKey(alice))).toBeNull();
      });

      it('saves a new actor at rev 1, then rev 2, round-tripping the envelope', async () => {
        const [a, b] = await store.append([text('a'), text('b')]);
        const snapshot = { status: 'active', value: { shopping: 'cart' }, context: { cart: [{ ref: 'x', n: 2 }], note: 'é' } };
        const first = applied((await store.commit([commitFor(a!, { envelope: { flowId: 'shop', flowVersion: 3, snapshot } })]))[0]);
        expect(first.rev).toBe(1);
        expect(await store.load(a!.event.key)).toEqual({ flowId: 'shop', flowVersion: 3, rev: 1, snapshot });
        const second = applied((await store.commit([commitFor(b!, { expectedRev: 1 })]))[0]);
        expect(second.rev).toBe(2);
        expect(await store.load(a!.event.key)).toMatchObject({ rev: 2, flowVersion: 1, snapshot: { context: { seen: b!.seq } } });
      });

      it('takes a committed event out of pending', async () => {
        const [a, b] = await store.append([text('a'), text('b', bob)]);
        await store.commit([commitFor(a!)]);
        expect(await store.pending(0, 10)).toEqual([b]);
      });

      it('chains two commits for one actor in the same batch', async () => {
        const [a, b] = await store.append([text('a'), text('b')]);
        const results = await store.commit([commitFor(a!), commitFor(b!, { expectedRev: 1 })]);
        expect(results.map((r) => r.ok && r.rev)).toEqual([1, 2]);
      });

      it('answers conflict for a stale revision, writes nothing of it, and still applies the rest of the batch', async () => {
        const [a, stale, other] = await store.append([text('a'), text('stale'), text('other', bob)]);
        applied((await store.commit([commitFor(a!)]))[0]);
        const results = await store.commit([
          commitFor(stale!, {
            expectedRev: 0,
            envelope: { flowId: 'shop', flowVersion: 1, snapshot: 'overwritten' },
            outbox: [{ lane: conversationKey(alice), effect: reply(alice, 'never') }],
            inbox: [text('told-by-stale', bob)],
            createOrders: [{ id: 500 as OrderId, customer: aliceElsewhere, total: 1, currency: 'EUR', data: {} }],
            tasks: [{ customer: alice, command: 'menu', dueAt: 10 }],
            customer: aliceElsewhere,
          }),
          commitFor(other!, { outbox: [{ lane: conversationKey(bob), effect: reply(bob, 'hi bob') }] }),
        ]);
        expect(results[0]).toEqual({ ok: false, reason: 'conflict' });
        expect(applied(results[1]).outbox).toHaveLength(1);
        expect(await store.load(a!.event.key)).toMatchObject({ rev: 1, snapshot: { context: { seen: a!.seq } } });
        expect((await store.pendingOutbox(0, 10)).map((o) => o.lane)).toEqual([conversationKey(bob)]);
        expect(await store.pending(0, 10)).toEqual([stale]);
        expect(await store.getOrder(500 as OrderId)).toBeNull();
        expect(await store.findCustomer(aliceElsewhere)).toBeNull();
        expect(await store.nextTaskAt()).toBeNull();
      });

      it('answers conflict when a new actor is saved over an existing one, or at a revision ahead', async () => {
        const [a, b, c] = await store.append([text('a'), text('b'), text('c')]);
        await store.commit([commitFor(a!)]);
        const results = await store.commit([commitFor(b!, { expectedRev: 0 }), commitFor(c!, { expectedRev: 5 })]);
        expect(results).toEqual([{ ok: false, reason: 'conflict' }, { ok: false, reason: 'conflict' }]);
      });

      it('rejects a batch with a failing commit as a STORE error and writes nothing of that batch', async () => {
        const [a, b, c] = await store.append([text('a'), text('b', bob), text('c')]);
        const [id] = await store.allocateOrderIds(1);
        const order = { id: id!, customer: alice, total: 100, currency: 'EUR', data: {} };
        await store.commit([commitFor(a!, { createOrders: [order] })]);
        const batch = store.commit([
          commitFor(b!, { outbox: [{ lane: 'x', effect: reply(bob, 'lost') }], customer: bob }),
          commitFor(c!, { expectedRev: 1, createOrders: [order] }),
        ]);
        await expect(batch).rejects.toBeInstanceOf(EngineError);
        await expect(batch).rejects.toMatchObject({ code: 'STORE' });
        expect(await store.load(b!.event.key)).toBeNull();
        expect(await store.pending(0, 10)).toEqual([b, c]);
        expect(await store.pendingOutbox(0, 10)).toEqual([]);
        expect(await store.findCustomer(bob)).toBeNull();
        // The same work again, without the failing commit: nothing remembered of the batch gets in the way.
        const [other] = await store.allocateOrderIds(1);
        const retried = await store.commit([commitFor(b!, { customer: bob, createOrders: [{ ...order, id: other!, customer: bob }] })]);
        expect(retried[0]).toMatchObject({ ok: true });
        expect((await store.findCustomer(bob))?.address).toEqual(bob);
        expect((await store.getOrder(other!))?.customer).toEqual(bob);
      });

      it('writes outbox rows and answers them as stored', async () => {
        const a = await appendOne(text('a'));
        const crm: DispatchedEffect = { type: 'notify_crm', orderId: 3, order: { total: 5 } };
        const result = applied(
          (
            await store.commit([
              commitFor(a, {
                at: 4_200,
                outbox: [
                  { lane: conversationKey(alice), effect: reply(alice, 'one') },
                  { lane: 'crm', effect: crm },
                ],
              }),
            ])
          )[0],
        );
        expect(result.outbox.map((o) => [o.lane, o.effect])).toEqual([
          [conversationKey(alice), reply(alice, 'one')],
          ['crm', crm],
        ]);
        for (const item of result.outbox) {
          expect(item).toMatchObject({ status: 'pending', attempts: 0, availableAt: 4_200, createdAt: 4_200, history: [] });
          expect(await store.getOutbox(item.id)).toEqual(item);
        }
        expect(result.outbox[0]!.id).toBeLessThan(result.outbox[1]!.id);
        expect(await store.pendingOutbox(0, 10)).toEqual(result.outbox);
      });

      it('appends inbox events deduplicated like append, answering only the new ones', async () => {
        const [a] = await store.append([text('a'), text('known', bob)]);
        const told = [text('known', bob), text('new-1', bob), text('new-1', bob), text('new-2', bob)];
        const result = applied((await store.commit([commitFor(a!, { inbox: told })]))[0]);
        expect(result.inbox.map((i) => i.event.id)).toEqual(['new-1', 'new-2']);
        expect((await store.pending(0, 10)).map((i) => i.event.id)).toEqual(['known', 'new-1', 'new-2']);
        expect(result.inbox).toEqual((await store.pending(0, 10)).slice(1));
      });

      it('creates the commit customer on first sight, once, with small increasing ids', async () => {
        const [a, b, c] = await store.append([text('a'), text('b'), text('c', aliceElsewhere)]);
        await store.commit([commitFor(a!, { customer: alice, at: 10 })]);
        await store.commit([commitFor(b!, { expectedRev: 1, customer: alice, at: 20 })]);
        await store.commit([commitFor(c!, { customer: aliceElsewhere, at: 30 })]);
        const first = await store.findCustomer(alice);
        const second = await store.findCustomer(aliceElsewhere);
        expect(first).toEqual({ id: first!.id, address: alice, createdAt: 10 });
        expect(second).toEqual({ id: second!.id, address: aliceElsewhere, createdAt: 30 });
        expect(first!.id).toBeGreaterThanOrEqual(1);
        expect(second!.id).toBeGreaterThan(first!.id);
        expect(second!.id).toBeLessThan(first!.id + 10);
        expect(await store.getCustomer(first!.id)).toEqual(first);
      });

      it('creates orders for their customer, then updates status and paid without judging the change', async () => {
        const [a, b] = await store.append([text('a'), text('b')]);
        const [id] = await store.allocateOrderIds(1);
        const data = { items: [{ id: 'p1', count: 2 }], delivery: 'pickup', recipient: 'Alice' };
        await store.commit([
          commitFor(a!, { at: 100, createOrders: [{ id: id!, customer: alice, total: 2_500, currency: 'EUR', data }] }),
        ]);
        const customer = await store.findCustomer(alice);
        expect(await store.getOrder(id!)).toEqual({
          id,
          customer: alice,
          customerId: customer!.id,
          status: 0,
          paid: false,
          total: 2_500,
          currency: 'EUR',
          data,
          createdAt: 100,
          updatedAt: 100,
          history: [],
        });
        await store.commit([commitFor(b!, { expectedRev: 1, at: 200, updateOrders: [{ id: id!, status: 40 }] })]);
        expect(await store.getOrder(id!)).toMatchObject({ status: 40, paid: false, updatedAt: 200, createdAt: 100 });
        const [c, d] = await store.append([text('c'), text('d')]);
        await store.commit([
          commitFor(c!, { expectedRev: 2, at: 300, updateOrders: [{ id: id!, paid: true }, { id: 9_999 as OrderId, status: 10 }] }),
          commitFor(d!, { expectedRev: 3, at: 400, updateOrders: [{ id: id!, status: 20 }] }),
        ]);
        expect(await store.getOrder(id!)).toMatchObject({ status: 20, paid: true, updatedAt: 400 });
        expect(await store.getOrder(9_999 as OrderId)).toBeNull();
      });

      it('keeps every change of status or paid flag in the order history, and nothing for a write that changes neither', async () => {
        const [a, b, c, d] = await store.append([text('a'), text('b'), text('c'), text('d')]);
        const [id, other] = await store.allocateOrderIds(2);
        const order = { customer: alice, total: 900, currency: 'EUR', data: { items: [] } };
        await store.commit([commitFor(a!, { at: 100, createOrders: [{ ...order, id: id! }, { ...order, id: other! }] })]);
        await store.commit([
          commitFor(b!, { expectedRev: 1, at: 200, updateOrders: [{ id: id!, status: 20 }, { id: other!, status: 20 }, { id: id!, status: 60 }] }),
          commitFor(c!, { expectedRev: 2, at: 300, updateOrders: [{ id: id!, status: 60 }, { id: id!, paid: true }] }),
        ]);
        await store.commit([commitFor(d!, { expectedRev: 3, at: 400, updateOrders: [{ id: id!, status: 60, paid: true }] })]);
        const found = await store.getOrder(id!);
        expect(found?.history).toEqual([
          { status: 20, paid: false, at: 200 },
          { status: 60, paid: false, at: 200 },
          { status: 60, paid: true, at: 300 },
        ]);
        expect((await store.listOrders({ limit: 10 })).find((listed) => listed.id === id)?.history).toEqual(found?.history);
        expect((await store.getOrder(other!))?.history).toEqual([{ status: 20, paid: false, at: 200 }]);
      });

      it('schedules tasks as waiting and completes the task a commit handles', async () => {
        const [a, b] = await store.append([text('a'), text('b')]);
        await store.commit([commitFor(a!, { tasks: [{ customer: alice, command: 'remind', dueAt: 5_000 }] })]);
        expect(await store.nextTaskAt()).toBe(5_000);
        const [due] = await store.fireDueTasks(5_000, 10);
        const taskId = due!.event.type === 'task_due' ? due!.event.taskId : -1;
        expect(await store.getTask(taskId)).toMatchObject({ customer: alice, command: 'remind', status: taskStatus.waiting });
        await store.commit([commitFor(b!, { expectedRev: 1, at: 6_000, completeTask: taskId })]);
        expect(await store.getTask(taskId)).toMatchObject({ status: taskStatus.done, doneAt: 6_000, firedAt: 5_000 });
      });
    });

    describe('outbox', () => {
      let queued = 0;
      async function queue(...effects: DispatchedEffect[]) {
        const item = await appendOne(text(`queued-${++queued}`, bob));
        const lane = conversationKey(bob);
        return applied((await store.commit([commitFor(item, { outbox: effects.map((effect) => ({ lane, effect })) })]))[0])
          .outbox;
      }

      it('lists pending rows after an id, in id order, up to the limit', async () => {
        const rows = await queue(reply(bob, '1'), reply(bob, '2'), reply(bob, '3'));
        expect((await store.pendingOutbox(rows[0]!.id, 1)).map((r) => r.id)).toEqual([rows[1]!.id]);
        await store.markSent([{ id: rows[1]!.id, at: 1 }]);
        expect((await store.pendingOutbox(0, 10)).map((r) => r.id)).toEqual([rows[0]!.id, rows[2]!.id]);
      });

      it('marks a batch sent with platform ids and a history entry', async () => {
        const [one, two] = await queue(reply(bob, '1'), reply(bob, '2'));
        await store.markSent([{ id: one!.id, platformId: 'mid.1', at: 50 }, { id: two!.id, at: 60 }]);
        expect(await store.getOutbox(one!.id)).toMatchObject({ status: 'sent', platformId: 'mid.1', history: [{ status: 'sent', at: 50 }] });
        const second = await store.getOutbox(two!.id);
        expect(second).toMatchObject({ status: 'sent', history: [{ status: 'sent', at: 60 }] });
        expect(second!.platformId).toBeUndefined();
        expect(await store.pendingOutbox(0, 10)).toEqual([]);
      });

      it('counts retries, keeping the row pending with its error', async () => {
        const [row] = await queue(reply(bob, '1'));
        await store.markRetry(row!.id, 9_000, 'timeout');
        await store.markRetry(row!.id, 9_500, 'HTTP 503');
        const retried = await store.getOutbox(row!.id);
        expect(retried).toMatchObject({ status: 'pending', attempts: 2, availableAt: 9_500, error: 'HTTP 503', history: [] });
        expect(await store.pendingOutbox(0, 10)).toEqual([retried]);
      });

      it('marks rows failed or blocked with the error in the history', async () => {
        const [one, two] = await queue(reply(bob, '1'), reply(bob, '2'));
        await store.markFailed(one!.id, 'failed', 'bad recipient', 70);
        await store.markFailed(two!.id, 'blocked', 'outside the window', 80);
        expect(await store.getOutbox(one!.id)).toMatchObject({
          status: 'failed',
          error: 'bad recipient',
          history: [{ status: 'failed', at: 70, error: 'bad recipient' }],
        });
        expect(await store.getOutbox(two!.id)).toMatchObject({ status: 'blocked', error: 'outside the window' });
        expect(await store.pendingOutbox(0, 10)).toEqual([]);
      });

      it('records platform statuses by platform id among the messages to that recipient, failing the row on failed', async () => {
        const [row, toAlice] = await queue(reply(bob, '1'), reply(alice, '2'));
        await store.markSent([
          { id: row!.id, platformId: 'wamid.A', at: 1 },
          { id: toAlice!.id, platformId: 'wamid.C', at: 1 },
        ]);
        expect(await store.messageStatus({ recipient: bob, platformId: 'wamid.A', status: 'delivered', at: 2 })).toBe(true);
        expect(await store.getOutbox(row!.id)).toMatchObject({ status: 'sent' });
        // Another customer's message is not theirs to report on.
        expect(await store.messageStatus({ recipient: bob, platformId: 'wamid.C', status: 'read', at: 2 })).toBe(false);
        expect((await store.getOutbox(toAlice!.id))!.history).toEqual([{ status: 'sent', at: 1 }]);
        expect(await store.messageStatus({ recipient: bob, platformId: 'wamid.A', status: 'failed', at: 3, error: 'undeliverable' })).toBe(true);
        expect(await store.getOutbox(row!.id)).toMatchObject({
          status: 'failed',
          error: 'undeliverable',
          history: [
            { status: 'sent', at: 1 },
            { status: 'delivered', at: 2 },
            { status: 'failed', at: 3, error: 'undeliverable' },
          ],
        });
        expect((await store.getOutbox(row!.id))!.history[1]).toEqual({ status: 'delivered', at: 2 });
        expect(await store.messageStatus({ recipient: bob, platformId: 'wamid.unknown', status: 'read', at: 4 })).toBe(false);
      });

      it('records a status in the commit of the event that reports it', async () => {
        const [row] = await queue(reply(bob, '1'));
        await store.markSent([{ id: row!.id, platformId: 'mid.B', at: 5 }]);
        const item = await appendOne(text('status-b', bob));
        await store.commit([commitFor(item, { key: own('status-b'), statuses: [{ recipient: bob, platformId: 'mid.B', status: 'read', at: 9 }] })]);
        expect((await store.getOutbox(row!.id))!.history).toEqual([
          { status: 'sent', at: 5 },
          { status: 'read', at: 9 },
        ]);
      });

      it('records a status up to a time for every sent message to that recipient, once', async () => {
        const lane = conversationKey(bob);
        const make = async (id: string, at: number) =>
          applied((await store.commit([commitFor(await appendOne(text(id, bob)), { key: own(id), at, outbox: [{ lane, effect: reply(bob, id) }] })]))[0])
            .outbox[0]!;
        const early = await make('early', 100);
        const late = await make('late', 300);
        const unsent = await make('unsent', 150);
        const elsewhere = applied(
          (await store.commit([commitFor(await appendOne(text('other', alice)), { key: own('other'), at: 100, outbox: [{ lane: 'x', effect: reply(alice, 'x') }] })]))[0],
        ).outbox[0]!;
        await store.markSent([
          { id: early.id, at: 110 },
          { id: late.id, at: 310 },
          { id: elsewhere.id, at: 110 },
        ]);
        const read = (id: string, at: number) =>
          appendOne(text(id, bob)).then((item) =>
            store.commit([commitFor(item, { key: own(id), statuses: [{ recipient: bob, upTo: 200, status: 'read', at }] })]),
          );
        await read('read-1', 400);
        await read('read-2', 500);
        expect((await store.getOutbox(early.id))!.history).toEqual([
          { status: 'sent', at: 110 },
          { status: 'read', at: 400 },
        ]);
        expect((await store.getOutbox(late.id))!.history).toEqual([{ status: 'sent', at: 310 }]);
        expect((await store.getOutbox(unsent.id))!.history).toEqual([]);
        expect((await store.getOutbox(elsewhere.id))!.history).toEqual([{ status: 'sent', at: 110 }]);
      });

      it('puts failed effects of one type back to pending, in id order, up to the limit', async () => {
        const crm: DispatchedEffect = { type: 'notify_crm', orderId: 1, order: { id: 1 } };
        const [a, b, c, d] = await queue(crm, reply(bob, 'r'), crm, crm);
        for (const row of [a, b, c]) await store.markFailed(row!.id, 'failed', 'gave up', 10);
        await store.markFailed(d!.id, 'blocked', 'policy', 10);
        await store.markRetry(a!.id, 20, 'again');
        const again = await store.requeueFailed('notify_crm', 50, 1);
        expect(again.map((row) => [row.id, row.status, row.attempts, row.availableAt])).toEqual([[a!.id, 'pending', 0, 50]]);
        expect((await store.requeueFailed('notify_crm', 60, 10)).map((row) => row.id)).toEqual([c!.id]);
        expect(await store.requeueFailed('notify_crm', 70, 10)).toEqual([]);
        expect((await store.pendingOutbox(0, 10)).map((row) => row.id)).toEqual([a!.id, c!.id]);
        expect(await store.getOutbox(b!.id)).toMatchObject({ status: 'failed' });
      });

      it('answers null for an unknown outbox id', async () => {
        expect(await store.getOutbox(12_345)).toBeNull();
      });

      it('lists the replies to one address, whatever their lane or status, in id order', async () => {
        const a = await appendOne(text('a'));
        const crm: DispatchedEffect = { type: 'notify_crm', orderId: 1, order: {} };
        const rows = applied(
          (
            await store.commit([
              commitFor(a, {
                outbox: [
                  { lane: conversationKey(alice), effect: reply(alice, 'one') },
                  { lane: conversationKey(alice), effect: reply(bob, 'to bob') },
                  { lane: conversationKey(alice), effect: crm },
                  { lane: 'somewhere-else', effect: reply(alice, 'two') },
                  { lane: conversationKey(aliceElsewhere), effect: reply(aliceElsewhere, 'other account') },
                  { lane: conversationKey(alice), effect: reply(alice, 'three') },
                ],
              }),
            ])
          )[0],
        ).outbox;
        await store.markFailed(rows[3]!.id, 'failed', 'nope', 1);
        const texts = (items: readonly { effect: DispatchedEffect }[]) =>
          items.map((i) => (i.effect.type === 'reply' && i.effect.message.kind === 'text' ? i.effect.message.text : '?'));
        expect(texts(await store.messagesTo(alice, 0, 10))).toEqual(['one', 'two', 'three']);
        expect(texts(await store.messagesTo(alice, rows[0]!.id, 1))).toEqual(['two']);
        expect(await store.messagesTo(alice, rows[0]!.id, 1)).toEqual([await store.getOutbox(rows[3]!.id)]);
        expect(texts(await store.messagesTo(aliceElsewhere, 0, 10))).toEqual(['other account']);
        expect(await store.messagesTo({ ...alice, user: 'nobody' }, 0, 10)).toEqual([]);
      });
    });

    describe('orders', () => {
      it('allocates unique increasing order ids', async () => {
        const first = await store.allocateOrderIds(3);
        const next = await store.allocateOrderIds(2);
        const all = [...first, ...next];
        expect(all).toHaveLength(5);
        for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1]!);
        expect(all[0]).toBeGreaterThanOrEqual(1);
        expect(await store.allocateOrderIds(0)).toEqual([]);
      });

      it('lists orders in id order, by status, with paging', async () => {
        const ids = await store.allocateOrderIds(4);
        const items = await store.append(ids.map((id) => text(`o${id}`)));
        const order = (id: OrderId) => ({ id, customer: alice, total: id, currency: 'EUR', data: { id } });
        // Created out of id order on purpose: the list still answers in id order.
        const [i0, i1, i2, i3] = [ids[0]!, ids[1]!, ids[2]!, ids[3]!];
        await store.commit([
          commitFor(items[0]!, { createOrders: [order(i2), order(i0)] }),
          commitFor(items[1]!, { expectedRev: 1, createOrders: [order(i3), order(i1)], updateOrders: [{ id: i1, status: 20 }, { id: i3, status: 20 }] }),
        ]);
        expect((await store.listOrders({ limit: 10 })).map((o) => o.id)).toEqual([i0, i1, i2, i3]);
        expect((await store.listOrders({ limit: 2 })).map((o) => o.id)).toEqual([i0, i1]);
        expect((await store.listOrders({ limit: 2, after: i1 })).map((o) => o.id)).toEqual([i2, i3]);
        expect((await store.listOrders({ limit: 10, status: 20 })).map((o) => o.id)).toEqual([i1, i3]);
        expect((await store.listOrders({ limit: 10, status: 20, after: i1 })).map((o) => o.id)).toEqual([i3]);
        expect((await store.listOrders({ limit: 10, status: 0 })).map((o) => o.id)).toEqual([i0, i2]);
      });

      it('answers null for an unknown order', async () => {
        expect(await store.getOrder(424_242 as OrderId)).toBeNull();
      });
    });

    describe('customers', () => {
      it('finds a customer with or without the account (then the first one seen)', async () => {
        const [a, b] = await store.append([text('a', aliceElsewhere), text('b', alice)]);
        await store.commit([commitFor(a!, { customer: aliceElsewhere }), commitFor(b!, { customer: alice })]);
        const elsewhere = await store.findCustomer(aliceElsewhere);
        expect(elsewhere?.address).toEqual(aliceElsewhere);
        expect((await store.findCustomer(alice))?.address).toEqual(alice);
        expect(await store.findCustomer({ channel: 'test', user: 'alice' })).toEqual(elsewhere);
        expect(await store.findCustomer({ channel: 'other', user: 'alice' })).toBeNull();
        expect(await store.getCustomer(987_654)).toBeNull();
      });

      it('keeps the latest time the customer wrote, and only from their own messages', async () => {
        const [a, b, c] = await store.append([text('a', alice), text('b', alice), text('c', alice)]);
        await store.commit([commitFor(a!, { customer: alice, customerSeenAt: 2_000 })]);
        expect((await store.findCustomer(alice))?.lastInboundAt).toBe(2_000);
        await store.commit([commitFor(b!, { expectedRev: 1, customer: alice, customerSeenAt: 1_000 })]);
        await store.commit([commitFor(c!, { expectedRev: 2, customer: alice })]);
        const customer = await store.findCustomer(alice);
        expect(customer?.lastInboundAt).toBe(2_000);
        expect((await store.getCustomer(customer!.id))?.lastInboundAt).toBe(2_000);
      });

      it('may keep the last inbound time up to a minute behind, never ahead', async () => {
        const [a, b, c] = await store.append([text('a', alice), text('b', alice), text('c', alice)]);
        await store.commit([commitFor(a!, { customer: alice, customerSeenAt: 2_000 })]);
        await store.commit([commitFor(b!, { expectedRev: 1, customer: alice, customerSeenAt: 32_000 })]);
        const soon = (await store.findCustomer(alice))?.lastInboundAt;
        expect(soon === 2_000 || soon === 32_000).toBe(true);
        await store.commit([commitFor(c!, { expectedRev: 2, customer: alice, customerSeenAt: 62_000 })]);
        expect((await store.findCustomer(alice))?.lastInboundAt).toBe(62_000);
      });
    });

    describe('pruneHistory', () => {
      const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
      const none = { inbox: 0, outbox: 0, tasks: 0 };

      /** Prunes in batches of `limit` until done; answers how many went and how many calls it took. */
      async function pruneAll(before: number, limit: number): Promise<{ deleted: number; calls: number }> {
        let from = none;
        let deleted = 0;
        for (let calls = 1; calls < 100; calls++) {
          const result = await store.pruneHistory!(before, from, limit);
          deleted += result.deleted;
          from = result.next;
          if (result.done) return { deleted, calls };
        }
        throw new Error('pruneHistory never said done');
      }

      it('deletes settled events, sent or failed messages and finished tasks older than the cutoff, in batches; never pending work', async () => {
        expect(store.pruneHistory).toBeTypeOf('function');
        const lane = conversationKey(bob);
        // Old: an event done with a sent, a failed and a pending reply; a failed event; a pending one.
        const [done, failed, pending] = await store.append([text('old-done', bob), text('old-failed'), text('old-pending', alice)]);
        const [sent, refused, waiting] = applied(
          (await store.commit([commitFor(done!, { at: Date.now(), outbox: ['1', '2', '3'].map((body) => ({ lane, effect: reply(bob, body) })) })]))[0],
        ).outbox;
        await store.markSent([{ id: sent!.id, at: Date.now() }]);
        await store.markFailed(refused!.id, 'blocked', 'the user blocked the page', Date.now());
        await store.fail(failed!.seq, 'no flow for it');
        const removed = await store.addTask({ customer: alice, command: 'removed', dueAt: 1 });
        await store.removeTask(removed.id);
        const armed = await store.addTask({ customer: alice, command: 'armed', dueAt: Date.now() + 3_600_000 });
        await tick();
        const cutoff = Date.now();
        await tick();
        // New: an event done with a sent reply, and a removed task.
        const fresh = await appendOne(text('new-done', bob));
        const [recent] = applied((await store.commit([commitFor(fresh, { key: own('new'), at: Date.now(), outbox: [{ lane, effect: reply(bob, 'new') }] })]))[0]).outbox;
        await store.markSent([{ id: recent!.id, at: Date.now() }]);
        const later = await store.addTask({ customer: alice, command: 'later', dueAt: 1 });
        await store.removeTask(later.id);

        const { deleted, calls } = await pruneAll(cutoff, 2);
        expect(deleted).toBe(5); // two events, two messages, one task
        expect(calls).toBeGreaterThan(1);
        expect(await store.outcomes([done!.seq, failed!.seq, fresh.seq])).toEqual([{ seq: fresh.seq, outcome: 'done' }]);
        expect((await store.pending(0, 10)).map((item) => item.seq)).toEqual([pending!.seq]);
        expect(await store.getOutbox(sent!.id)).toBeNull();
        expect(await store.getOutbox(refused!.id)).toBeNull();
        expect((await store.pendingOutbox(0, 10)).map((row) => row.id)).toEqual([waiting!.id]);
        expect((await store.messagesTo(bob, 0, 10)).map((row) => row.id)).toEqual([waiting!.id, recent!.id]);
        expect(await store.getTask(removed.id)).toBeNull();
        expect(await store.getTask(armed.id)).toMatchObject({ status: taskStatus.waiting });
        expect(await store.getTask(later.id)).toMatchObject({ status: taskStatus.removed });

        expect(await pruneAll(cutoff, 2)).toEqual({ deleted: 0, calls: 1 });
        // The dedupe of an id lasts as long as its event is kept.
        expect(await store.append([text('old-done', bob), text('new-done', bob)])).toHaveLength(1);
      });

      it('stops at the first row not older than the cutoff, and says done on an empty store', async () => {
        expect(store.pruneHistory).toBeTypeOf('function');
        expect(await store.pruneHistory!(Date.now(), none, 10)).toEqual({ deleted: 0, next: none, done: true });
        const [first, second] = await store.append([text('first'), text('second')]);
        await store.commit([commitFor(first!, { at: Date.now() }), commitFor(second!, { expectedRev: 1, at: Date.now() })]);
        const result = await store.pruneHistory!(0, none, 10);
        expect(result).toEqual({ deleted: 0, next: none, done: true });
      });
    });

    describe('tasks', () => {
      it('adds a waiting task and reads it back', async () => {
        const task = await store.addTask({ customer: alice, command: 'menu', dueAt: 1_000 });
        expect(task).toEqual({ id: task.id, customer: alice, command: 'menu', dueAt: 1_000, status: taskStatus.waiting });
        expect(await store.getTask(task.id)).toEqual(task);
        expect(await store.getTask(task.id + 1_000)).toBeNull();
      });

      it('removes a waiting task once, and it never fires', async () => {
        const task = await store.addTask({ customer: alice, command: 'menu', dueAt: 1_000 });
        expect(await store.removeTask(task.id)).toBe(true);
        expect(await store.removeTask(task.id)).toBe(false);
        expect(await store.getTask(task.id)).toMatchObject({ status: taskStatus.removed });
        expect(await store.fireDueTasks(5_000, 10)).toEqual([]);
        expect(await store.nextTaskAt()).toBeNull();
        expect(await store.removeTask(777_777)).toBe(false);
      });

      it('fires due tasks in due order (ties by id) into the inbox, once', async () => {
        const late = await store.addTask({ customer: bob, command: 'late', dueAt: 3_000 });
        const tie1 = await store.addTask({ customer: alice, command: 'tie-1', dueAt: 2_000 });
        const tie2 = await store.addTask({ customer: bob, command: 'tie-2', dueAt: 2_000 });
        const early = await store.addTask({ customer: alice, command: 'early', dueAt: 1_000 });
        const future = await store.addTask({ customer: alice, command: 'future', dueAt: 9_000 });
        expect(await store.nextTaskAt()).toBe(1_000);

        const fired = await store.fireDueTasks(3_000, 3);
        expect(fired.map((i) => i.event)).toEqual([early, tie1, tie2].map(taskDueEvent));
        expect(await store.pending(0, 10)).toEqual(fired);
        expect(await store.getTask(early.id)).toMatchObject({ status: taskStatus.waiting, firedAt: 3_000 });
        expect(await store.nextTaskAt()).toBe(3_000);

        const rest = await store.fireDueTasks(3_000, 10);
        expect(rest.map((i) => i.event)).toEqual([taskDueEvent(late)]);
        expect(rest[0]!.seq).toBeGreaterThan(fired[2]!.seq);
        expect(await store.fireDueTasks(3_000, 10)).toEqual([]);
        expect(await store.nextTaskAt()).toBe(future.dueAt);
      });

      it('refuses to remove a task that has fired, changing nothing', async () => {
        const task = await store.addTask({ customer: alice, command: 'menu', dueAt: 1_000 });
        await store.fireDueTasks(1_000, 10);
        const before = await store.getTask(task.id);
        expect(await store.removeTask(task.id)).toBe(false);
        expect(await store.getTask(task.id)).toEqual(before);
        expect(await store.pending(0, 10)).toHaveLength(1);
      });
    });

    leaseConformance(() => store, options);

    describe('close', () => {
      it('closes idempotently, and calls after it reject as STORE errors', async () => {
        await store.close();
        await store.close();
        await expect(store.pending(0, 10)).rejects.toMatchObject({ code: 'STORE' });
        await expect(store.append([text('late')])).rejects.toBeInstanceOf(EngineError);
      });
    });
  });
}
