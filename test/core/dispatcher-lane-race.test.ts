import { describe, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { gate, recordingChannel, replyCommitter, twoDispatchers } from './lane-race-harness.js';

/**
 * Two dispatchers on one shared memory store, as two instances, driven step by step through
 * the race commit e9c950c fixed: A sends a customer's last row (1); B commits row 2, cannot
 * claim the lane and tells A, who claims it again while row 1 is in flight. That claim reads
 * rows 1 and 2 under A's lease, but its answer is held back; meanwhile row 1 is marked sent.
 * B's scan then looks for free lanes, and only then does A's claim answer. A lane with a
 * claim on its way must stay leased to A at the mark, or A and B both send row 2.
 */

describe('a dispatcher on a shared store', () => {
  it('keeps the lease of a lane whose claim is on its way, so a reply is sent once', async () => {
    const store = createMemoryStore({ shared: true });
    const sends = new Map<number, string[]>();
    const rowOneSending = gate();
    const rowOneSent = gate();

    // Row 1 stays in flight until the test lets it go; every other send answers at once.
    const channel = recordingChannel(sends, (outboxId) => {
      if (outboxId !== 1) return undefined;
      rowOneSending.open();
      return rowOneSent.opened;
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

    // What ClusterSync does with the store's notices: the lane's last holder claims it again.
    const { a, b, expectEachRowSentOnceByA } = twoDispatchers(store, storeOfA, channel);

    const commitReply = replyCommitter(store);

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
    await expectEachRowSentOnceByA(sends);
  });
});
