import { expect } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { Dispatcher } from '../../src/core/dispatcher.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutboxItem, Store } from '../../src/core/store.js';

/** What the dispatcher race tests share: one customer's lane, gates, two dispatchers. */

export const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
export const lane = conversationKey(alice);

/** A promise the test opens when it chooses. */
export function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/**
 * A channel per instance that records who sent which outbox row in `sends`; a send for which
 * `held` answers a promise stays in flight until it settles.
 */
export function recordingChannel(sends: Map<number, string[]>, held: (outboxId: number, by: string) => Promise<void> | undefined): (by: string) => Channel {
  return (by) => ({
    name: 'test',
    async send(_to, _message, { outboxId }) {
      sends.set(outboxId, [...(sends.get(outboxId) ?? []), by]);
      await held(outboxId, by);
      return {};
    },
  });
}

/**
 * Two dispatchers as two instances: A on `storeOfA` (the shared store, wrapped by the test to
 * hold some of its calls), B on `store` itself. Each hears the other's outbox notices and
 * claims the lane again, as ClusterSync does; `noticed` hears who sent each notice.
 */
export function twoDispatchers(store: Store, storeOfA: Store, channel: (by: string) => Channel, noticed?: (from: string) => void) {
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
  const unwatch = store.watch!((notice) => {
    if (notice.topic !== 'outbox' || !notice.lane) return;
    for (const [owner, one] of byOwner) if (owner !== notice.from) one.notice(notice.lane);
    if (notice.from) noticed?.(notice.from);
  });
  /**
   * Lets both dispatchers settle, stops them, and checks the end of every race: each row sent
   * once, by A, and nothing left pending.
   */
  const expectEachRowSentOnceByA = async (sends: Map<number, string[]>) => {
    await a.settled(true);
    await b.settled(true);
    unwatch();
    a.stop();
    b.stop();
    expect(Object.fromEntries(sends)).toEqual({ 1: ['a'], 2: ['a'] });
    expect(await store.pendingOutbox(0, 100)).toEqual([]);
  };
  return { a, b, expectEachRowSentOnceByA };
}

/** Commits a text reply to alice as the next step of her conversation; answers its outbox rows. */
export function replyCommitter(store: Store): (body: string) => Promise<OutboxItem[]> {
  let rev = 0;
  return async (body) => {
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
}
