import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeCycle } from '../../bench/store-cycle.js';
import { conversationKey } from '../../src/core/ids.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'orderly-store-cycle-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the store cycle (bench/store-cycle.ts)', () => {
  for (const batch of [1, 5]) {
    it(`drives each event through append, load, commit and markSent, ${batch} at a time`, async () => {
      const store = openSqliteStore(join(dir, `cycle-${batch}.db`));
      try {
        const result = await storeCycle(store, { events: 30, batch, customers: 5 });
        expect(result.cpuUsPerEvent).toBeGreaterThan(0);
        expect(result.wallUsPerEvent).toBeGreaterThan(0);
        expect(result.systemUsPerEvent).toBeGreaterThanOrEqual(0);
        // The warm-up and the measured events, in whole batches: every one done, every reply sent.
        const perCustomer = (2 * Math.ceil(30 / batch) * batch) / 5;
        expect(await store.pending(0, 1_000)).toEqual([]);
        expect(await store.pendingOutbox(0, 1_000)).toEqual([]);
        for (let i = 0; i < 5; i++) {
          const address = { channel: 'messenger', account: 'page', user: `customer-${i}` };
          const replies = await store.messagesTo(address, 0, 1_000);
          expect(replies.map((reply) => reply.status)).toEqual(Array(perCustomer).fill('sent'));
          expect(await store.load(conversationKey(address))).toMatchObject({ rev: perCustomer });
        }
      } finally {
        await store.close();
      }
    });
  }
});
