import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { createEngine } from '../../src/core/engine.js';
import type { Engine } from '../../src/core/engine-types.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { echoFlow, echoOrderFlow } from './echo-flows.js';

/**
 * The multi-instance mode on a shared memory store: several engines in one process, each
 * with its own leases, as instances on PostgreSQL (the cluster tests run the real thing).
 */

interface Sent {
  user: string;
  text: string;
  by: string;
}

function recorder(sent: Sent[], by: string, delayMs = 0): Channel {
  return {
    name: 'test',
    async send(to, message) {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * delayMs));
      sent.push({ user: to.user, text: message.kind === 'text' ? message.text : message.kind, by });
      return {};
    },
  };
}

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop({ timeoutMs: 1_000 })));
  engines.length = 0;
});

async function cluster(store: Store, count: number, sent: Sent[], leaseMs = 2_000): Promise<Engine[]> {
  const started = Array.from({ length: count }, (_, i) =>
    createEngine({
      store,
      flows: [echoFlow, echoOrderFlow],
      services: { prefix: '#' },
      channels: [recorder(sent, `e${i}`, 3)],
      instanceId: `e${i}`,
      leaseMs,
      pollMs: 200,
    }),
  );
  engines.push(...started);
  await Promise.all(started.map((engine) => engine.start()));
  return started;
}

const address = (user: string): Address => ({ channel: 'test', account: 'shop', user });
const text = (user: string, id: string, body: string) => ({ type: 'text' as const, id, key: conversationKey(address(user)), at: 1, address: address(user), text: body });

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('engines sharing one store', () => {
  it('answers every customer once per event, in each customer order, whichever engine ingests', async () => {
    const store = createMemoryStore({ shared: true });
    const sent: Sent[] = [];
    const all = await cluster(store, 3, sent);
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const perUser = 15;
    await Promise.all(
      users.map(async (user) => {
        for (let n = 1; n <= perUser; n++) {
          const event = text(user, `${user}-${n}`, `m${n}`);
          await all[Math.floor(Math.random() * all.length)]!.ingest([event]);
          if (n % 4 === 0) await all[Math.floor(Math.random() * all.length)]!.ingest([event]);
        }
      }),
    );
    await until(() => sent.length >= users.length * perUser);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const user of users) {
      expect(sent.filter((s) => s.user === user).map((s) => s.text)).toEqual(
        Array.from({ length: perUser }, (_, i) => `#${i + 1}:m${i + 1}`),
      );
    }
    expect(new Set(sent.map((s) => s.by)).size).toBeGreaterThan(1);
    expect(await store.pending(0, 10)).toEqual([]);
  });

  it('waits for an event another engine processes, and serializes one actor across engines', async () => {
    const store = createMemoryStore({ shared: true });
    const sent: Sent[] = [];
    const [a, b] = await cluster(store, 2, sent);
    const waits = [];
    for (let i = 0; i < 6; i++) {
      waits.push((i % 2 === 0 ? a! : b!).ingest([text('same', `same-${i}`, `m${i}`)], { wait: true }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const results = await Promise.all(waits);
    expect(results.map((result) => [result.accepted, result.failed])).toEqual(Array.from({ length: 6 }, () => [1, 0]));
    await until(() => sent.length >= 6);
    expect(sent.map((s) => s.text)).toEqual(Array.from({ length: 6 }, (_, i) => `#${i + 1}:m${i}`));
  });

  it('takes over the events and replies of an instance whose leases expired', async () => {
    const store = createMemoryStore({ shared: true });
    const sent: Sent[] = [];
    const key = conversationKey(address('z'));
    // A dead instance's claims: nobody renews them, and nobody releases them.
    await store.claimKeys([key], { owner: 'dead', ms: 400 });
    await store.claimLanes([key], { owner: 'dead', ms: 900 });
    const [rescuer] = await cluster(store, 1, sent, 2_000);
    const started = Date.now();
    await rescuer!.ingest([text('z', 'z-1', 'one'), text('z', 'z-2', 'two')]);
    await until(() => sent.length >= 2);
    expect(Date.now() - started).toBeGreaterThan(800);
    expect(sent.map((s) => s.text)).toEqual(['#1:one', '#2:two']);
    expect(await store.pending(0, 10)).toEqual([]);
  });
});
