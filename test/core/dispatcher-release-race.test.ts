import { describe, it } from 'vitest';
import type { ClaimedLane, Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { gate, recordingChannel, lane, replyCommitter, twoDispatchers } from './lane-race-harness.js';

/**
 * Two dispatchers on one shared memory store, as two instances, driven step by step through
 * a release that crosses a claim: A sends a customer's last row (1) and marks it sent, giving
 * up the lane; that write is held back. B commits row 2, cannot claim the lane and tells A,
 * who claims it again. Were A's claim applied before the held write, it would renew A's lease
 * and bring row 2, and the write would then delete the lease: A would send row 2 from a lane
 * nobody holds, and B's scan would claim the lane and send row 2 too. A claim must land after
 * a release of its lane that is on its way.
 */

describe('a dispatcher on a shared store', () => {
  it('claims a lane only after giving it up has landed, so a reply is sent once', async () => {
    const store = createMemoryStore({ shared: true });
    const sends = new Map<number, string[]>();
    const rowTwoSending = gate();
    const rowTwoSent = gate();

    // A's send of row 2 stays in flight until the test lets it go; every other send answers at once.
    const channel = recordingChannel(sends, (outboxId, by) => {
      if (outboxId !== 2 || by !== 'a') return undefined;
      rowTwoSending.open();
      return rowTwoSent.opened;
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

    // What ClusterSync does with the store's notices: the lane's last holder claims it again.
    const noticed = gate();
    const { a, b, expectEachRowSentOnceByA } = twoDispatchers(store, storeOfA, channel, (from) => from === 'b' && noticed.open());

    const commitReply = replyCommitter(store);

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
    await expectEachRowSentOnceByA(sends);
  });
});
