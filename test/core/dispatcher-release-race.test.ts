import { describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { Dispatcher } from '../../src/core/dispatcher.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClaimedLane, OutboxItem, Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';

/**
 * Two dispatchers on one shared memory store, as two instances, driven step by step through
 * a release that crosses a claim: A sends a customer's last row (1) and marks it sent, giving
 * up the lane; that write is held back. B commits row 2, cannot claim the lane and tells A,
 * who claims it again. Were A's claim applied before the held write, it would renew A's lease
 * and bring row 2, and the write would then delete the lease: A would send row 2 from a lane
 * nobody holds, and B's scan would claim the lane and send row 2 too. A claim must land after
 * a release of its lane that is on its way.
 */

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const lane = conversationKey(alice);

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('a dispatcher on a shared store', () => {
  it('claims a lane only after giving it up has landed, so a reply is sent once', async () => {
    const store = createMemoryStore({ shared: true });
    const sends = new Map<number, string[]>();
    const rowTwoSending = gate();
    const rowTwoSent = gate();

    // A's send of row 2 stays in flight until the test lets it go; every other send answers at once.
    const channel = (by: string): Channel => ({
      name: 'test',
      async send(_to, _message, { outboxId }) {
        sends.set(outboxId, [...(sends.get(outboxId) ?? []), by]);
        if (outboxId === 2 && by === 'a') {
          rowTwoSending.open();
          await rowTwoSent.opened;
        }
        return {};
      },
    });

    // A's mark that gives the lane up waits until the test lets it go, and then until any claim
    // A sent meanwhile has been applied: that is the order that loses the lease.
    const release = { reached: gate(), go: gate() };
    let claim: Promise<ClaimedLane[]> | undefined;
    const storeOfA: Store = {
      ...store,
      async markSent(results, lease) {
        if (lease?.release?.includes(lane)) {
          release.reached.open();
          await release.go.opened;
          await claim;
        }
        return store.markSent(results, lease);
      },
      claimLanes(lanes, lease) {
        claim = store.claimLanes(lanes, lease);
        return claim;
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
    const noticed = gate();
    const unwatch = store.watch!((notice) => {
      if (notice.topic !== 'outbox' || !notice.lane) return;
      for (const [owner, one] of byOwner) if (owner !== notice.from) one.notice(notice.lane);
      if (notice.from === 'b') noticed.open();
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

    // 1. A claims the lane and sends row 1, its last; the mark that gives the lane up is held.
    a.enqueue(await commitReply('one'));
    await release.reached.opened;

    // 2. B commits row 2; its claim is refused, and the notice makes A claim the lane again.
    b.enqueue(await commitReply('two'));
    await noticed.opened;
    // A's claims go out on the next turn of the loop: by then A has sent its claim, or holds it back.
    await new Promise(setImmediate);

    // 3. The mark lands (after A's claim, if A sent it), and A sends row 2.
    release.go.open();
    await rowTwoSending.opened;

    // 4. While A sends row 2, A holds the lane: B's scan for free lanes finds nothing to send.
    // On the unfixed code the lane is free, and B claims it and sends row 2 as well.
    await b.adopt(() => store.pendingOutbox(0, 100, 'b'));
    await new Promise(setImmediate);
    await b.settled(true);

    rowTwoSent.open();
    await a.settled(true);
    await b.settled(true);
    unwatch();
    a.stop();
    b.stop();

    expect(Object.fromEntries(sends)).toEqual({ 1: ['a'], 2: ['a'] });
    expect(await store.pendingOutbox(0, 100)).toEqual([]);
  });
});
