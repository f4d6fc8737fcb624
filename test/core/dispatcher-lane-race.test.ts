import { describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { Dispatcher } from '../../src/core/dispatcher.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutboxItem, Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';

/**
 * Two dispatchers on one shared memory store, as two instances, driven step by step through
 * the race commit e9c950c fixed: A sends a customer's last row (1); B commits row 2, cannot
 * claim the lane and tells A, who claims it again while row 1 is in flight. That claim reads
 * rows 1 and 2 under A's lease, but its answer is held back; meanwhile row 1 is marked sent.
 * B's scan then looks for free lanes, and only then does A's claim answer. A lane with a
 * claim on its way must stay leased to A at the mark, or A and B both send row 2.
 */

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const lane = conversationKey(alice);

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('a dispatcher on a shared store', () => {
  it('keeps the lease of a lane whose claim is on its way, so a reply is sent once', async () => {
    const store = createMemoryStore({ shared: true });
    const sends = new Map<number, string[]>();
    const rowOneSending = gate();
    const rowOneSent = gate();

    // Row 1 stays in flight until the test lets it go; every other send answers at once.
    const channel = (by: string): Channel => ({
      name: 'test',
      async send(_to, _message, { outboxId }) {
        sends.set(outboxId, [...(sends.get(outboxId) ?? []), by]);
        if (outboxId === 1) {
          rowOneSending.open();
          await rowOneSent.opened;
        }
        return {};
      },
    });

    // A's claims answer late once `held.armed`: the store reads the rows at once, the answer waits.
    const held = { armed: false, read: gate(), answer: gate() };
    const storeOfA: Store = {
      ...store,
      async claimLanes(lanes, lease) {
        const claimed = await store.claimLanes(lanes, lease);
        if (held.armed) {
          held.read.open();
          await held.answer.opened;
        }
        return claimed;
      },
    };

    const dispatcher = (owner: string, on: Store) =>
      new Dispatcher({
        store: on,
        channels: new Map([['test', channel(owner)]]),
        handlers: {},
        logger: silentLogger,
        observer: {},
        clock: Date.now,
        lastInboundAt: () => Promise.resolve(undefined),
        maxInFlight: 8,
        maxAttempts: () => 3,
        baseBackoffMs: 10,
        maxBackoffMs: 100,
        lease: { owner, ms: 60_000 },
      });
    const a = dispatcher('a', storeOfA);
    const b = dispatcher('b', store);
    const byOwner = new Map([['a', a], ['b', b]]);
    // What ClusterSync does with the store's notices: the lane's last holder claims it again.
    const unwatch = store.watch!((notice) => {
      if (notice.topic !== 'outbox' || !notice.lane) return;
      for (const [owner, one] of byOwner) if (owner !== notice.from) one.notice(notice.lane);
    });

    let rev = 0;
    const commitReply = async (body: string): Promise<OutboxItem[]> => {
      const [event] = await store.append([{ type: 'text', id: body, key: lane, at: 1, address: alice, text: body }]);
      const [result] = await store.commit([
        {
          key: lane,
          seq: event!.seq,
          expectedRev: rev++,
          envelope: { flowId: 'echo', flowVersion: 1, snapshot: null },
          outbox: [{ lane, effect: { type: 'reply', to: alice, message: { kind: 'text', text: body } } }],
          inbox: [],
          createOrders: [],
          updateOrders: [],
          tasks: [],
          at: 1,
        },
      ]);
      if (!result?.ok) throw new Error('the commit did not apply');
      return [...result.outbox];
    };

    // 1. A claims the lane and sends row 1, which stays in flight.
    a.enqueue(await commitReply('one'));
    await rowOneSending.opened;

    // 2. B commits row 2; its claim is refused, and the notice makes A claim the lane again.
    held.armed = true;
    b.enqueue(await commitReply('two'));
    await held.read.opened;

    // 3. Row 1 goes out and is marked sent while A's claim has not answered.
    rowOneSent.open();
    await a.settled(false);

    // 4. B's scan for free lanes (the poll): on the unfixed code the lane is free, B sends row 2.
    await b.adopt(() => store.pendingOutbox(0, 100, 'b'));
    await b.settled(true);

    // 5. A's claim answers that A holds the lane, with row 2.
    held.answer.open();
    // The answer is taken up in microtasks: after one turn of the loop, A has queued what it brought.
    await new Promise(setImmediate);
    await a.settled(true);
    await b.settled(true);
    unwatch();
    a.stop();
    b.stop();

    expect(Object.fromEntries(sends)).toEqual({ 1: ['a'], 2: ['a'] });
    expect(await store.pendingOutbox(0, 100)).toEqual([]);
  });
});
