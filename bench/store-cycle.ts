/**
 * The SQLite store alone, as the engine drives it for each event: `append` (before the
 * 200), `load`, `commit` (the new snapshot and one reply) and `markSent`, for `events`
 * events from 1,000 customers in turn, in batches of `batch`. It prints the CPU and wall time per
 * event, which shows what a transaction costs when each carries one event against many.
 *
 *   npx tsx bench/store-cycle.ts [--events 5000] [--batch 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventOf } from '../src/core/events.js';
import { conversationKey, type Address } from '../src/core/ids.js';
import type { Commit, Store } from '../src/core/store.js';
import { openSqliteStore } from '../src/stores/sqlite.js';
import { isMain } from './children.js';

export interface CycleOptions {
  /** Events measured, after as many again to warm up. */
  readonly events: number;
  /** Events per call of each store method. */
  readonly batch: number;
  /** How many customers the events come from, in turn (1,000): at least `batch`. */
  readonly customers?: number;
}

/** A customer's text: the events of the cycle, each with the address its reply goes to. */
type TextEvent = EventOf<'text'> & { readonly address: Address };

export interface CycleResult {
  readonly cpuUsPerEvent: number;
  readonly systemUsPerEvent: number;
  readonly wallUsPerEvent: number;
}

/**
 * Runs the cycle on `store`, `events` events after a warm-up of as many.
 * @example await storeCycle(openSqliteStore('/tmp/cycle.db'), { events: 5_000, batch: 1 })
 */
export async function storeCycle(store: Store, options: CycleOptions): Promise<CycleResult> {
  const revs = new Map<string, number>();
  let next = 0;
  const batch = Math.max(1, Math.trunc(options.batch));
  const rounds = Math.max(1, Math.ceil(options.events / batch));
  const customers = options.customers ?? 1_000;
  // Two events of one customer in a batch would commit against the same revision.
  if (batch > customers) throw new RangeError(`a batch of ${batch} needs at least as many customers`);

  async function cycle(): Promise<void> {
    const at = Date.now();
    const events = Array.from({ length: batch }, (): TextEvent => {
      const n = next++;
      const address: Address = { channel: 'messenger', account: 'page', user: `customer-${n % customers}` };
      return { type: 'text', id: `m_${n}`, key: conversationKey(address), at, address, text: `hello ${n}` };
    });
    const items = await store.append(events);
    const commits: Commit[] = [];
    for (const item of items) {
      const event = item.event as TextEvent;
      await store.load(event.key);
      commits.push({
        key: event.key,
        seq: item.seq,
        expectedRev: revs.get(event.key) ?? 0,
        envelope: { flowId: 'shop', flowVersion: 1, snapshot: { status: 'active', value: 'idle', context: { customer: event.address, greeted: true, cart: [] }, children: {} } },
        outbox: [{ lane: event.key, effect: { type: 'reply', to: event.address, message: { kind: 'text', text: `You said: ${event.text}` } } }],
        inbox: [],
        createOrders: [],
        updateOrders: [],
        tasks: [],
        customer: event.address,
        customerSeenAt: at,
        at,
      });
    }
    const results = await store.commit(commits);
    const sent: { id: number; platformId: string; at: number }[] = [];
    results.forEach((result, i) => {
      if (!result.ok) throw new Error(`commit ${i} was refused: ${result.reason}`);
      revs.set(commits[i]!.key, result.rev);
      for (const item of result.outbox) sent.push({ id: item.id, platformId: `m_sent_${item.id}`, at });
    });
    await store.markSent(sent);
  }

  for (let i = 0; i < rounds; i++) await cycle();
  const wall = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await cycle();
  const used = process.cpuUsage(cpu);
  const measured = rounds * batch;
  return {
    cpuUsPerEvent: (used.user + used.system) / measured,
    systemUsPerEvent: used.system / measured,
    wallUsPerEvent: ((performance.now() - wall) * 1_000) / measured,
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '5000' }, batch: { type: 'string', default: '1' } } });
  const options = { events: Number(values.events), batch: Number(values.batch) };
  if (!(options.events > 0) || !(options.batch > 0)) {
    console.error('usage: npx tsx bench/store-cycle.ts [--events 5000] [--batch 1]');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'orderly-store-cycle-'));
  const store = openSqliteStore(join(dir, 'orderly.db'));
  try {
    const result = await storeCycle(store, options);
    const us = (value: number) => `${value.toFixed(1)} µs`;
    console.log(
      `SQLite store, ${options.events} events in batches of ${options.batch}: ${us(result.cpuUsPerEvent)} of CPU an event ` +
        `(${us(result.systemUsPerEvent)} in the kernel), ${us(result.wallUsPerEvent)} of wall time`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
