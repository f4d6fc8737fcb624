import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { createEngine } from '../../src/core/engine.js';
import type { Engine } from '../../src/core/engine-types.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { HistoryPruner } from '../../src/core/retention.js';
import type { Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { echoFlow, type EchoServices } from './echo-flows.js';

const day = 86_400_000;
const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const text = (id: string, body: string, at: number) => ({ type: 'text' as const, id, key: conversationKey(alice), at, address: alice, text: body });

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A channel that records the texts it sends. */
function recording(): Channel & { sent: string[] } {
  const sent: string[] = [];
  return {
    name: 'test',
    sent,
    send: (_to, message) => {
      sent.push(message.kind === 'text' ? message.text : message.kind);
      return Promise.resolve({});
    },
  };
}

const stores: [string, (clock: () => number) => Store][] = [
  ['memory', (clock) => createMemoryStore({ clock })],
  [
    'sqlite',
    (clock) => {
      const dir = mkdtempSync(join(tmpdir(), 'orderly-retention-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return openSqliteStore(join(dir, 'orderly.db'), { clock });
    },
  ],
];

describe.each(stores)('retention on the %s store', (_name, open) => {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;

  function engineOn(store: Store, channel: Channel, logger: Logger = silentLogger): Engine {
    const engine = createEngine<EchoServices>({ store, flows: [echoFlow], services: { prefix: '#' }, channels: [channel], clock, logger, retention: { keepMs: 7 * day } });
    cleanups.push(async () => {
      await engine.stop({ timeoutMs: 1_000 });
      await store.close();
    });
    return engine;
  }

  it('deletes the events and messages older than the retention; the conversation goes on where it was', async () => {
    now = Date.UTC(2026, 0, 1);
    const store = open(clock);
    const channel = recording();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', 'a', now), text('m2', 'b', now)]);
    await engine.idle();
    expect(await engine.pruneHistory()).toBe(0);

    now += 8 * day;
    await engine.ingest([text('m3', 'c', now)]);
    await engine.idle();
    expect(await engine.pruneHistory()).toBe(4); // two events, two replies
    expect(await engine.pruneHistory()).toBe(0);
    expect((await store.messagesTo(alice, 0, 10)).map((row) => row.status)).toEqual(['sent']);

    await engine.ingest([text('m4', 'd', now)]);
    await engine.idle();
    expect(channel.sent).toEqual(['#1:a', '#2:b', '#3:c', '#4:d']);
  });

  it('prunes when the engine starts, and again every `everyMs`, until it stops', async () => {
    now = Date.UTC(2026, 0, 1);
    const store = open(clock);
    const channel = recording();
    const first = createEngine<EchoServices>({ store, flows: [echoFlow], services: { prefix: '#' }, channels: [channel], clock });
    await first.start();
    await first.ingest([text('old', 'a', now)]);
    await first.idle();
    await first.stop();
    expect(await first.pruneHistory()).toBe(0); // no retention: everything kept

    now += 8 * day;
    const deletions: unknown[] = [];
    const logger: Logger = { ...silentLogger, info: (object, message) => void (message === 'deleted old history' && deletions.push(object)) };
    const engine = engineOn(store, channel, logger);
    await engine.start();
    await expect.poll(() => store.messagesTo(alice, 0, 10)).toEqual([]);
    expect(deletions).toEqual([{ deleted: 2, before: now - 7 * day }]);

    const pruner = new HistoryPruner(store, logger, clock, { keepMs: 7 * day, everyMs: 20 });
    pruner.start();
    await engine.ingest([text('new', 'b', now)]);
    await engine.idle();
    now += 8 * day;
    await expect.poll(() => store.messagesTo(alice, 0, 10), { timeout: 2_000 }).toEqual([]);
    await pruner.stop();
    expect(deletions).toHaveLength(2);
  });
});

describe('HistoryPruner', () => {
  it('refuses settings that would never finish', () => {
    const store = createMemoryStore();
    expect(() => new HistoryPruner(store, silentLogger, Date.now, { keepMs: 0 })).toThrow(RangeError);
    expect(() => new HistoryPruner(store, silentLogger, Date.now, { keepMs: day, batch: 0 })).toThrow(RangeError);
  });

  it('does nothing for a store without pruneHistory', async () => {
    const { pruneHistory: _, ...store } = createMemoryStore();
    const pruner = new HistoryPruner(store, silentLogger, Date.now, { keepMs: day });
    pruner.start();
    expect(await pruner.prune()).toBe(0);
    await pruner.stop();
  });
});
