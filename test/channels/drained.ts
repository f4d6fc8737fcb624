import { expect } from 'vitest';
import type { Address } from '../../src/core/ids.js';
import type { RunningServer } from '../../src/server/index.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';

/**
 * Closes `server` right after it acknowledged a customer's message, then checks the drain:
 * the customer has replies in the store at `dbFile`, every one marked sent, and the fake
 * platform answered each exactly once with a 200 (`statuses`: the HTTP statuses of the
 * requests it received for that customer). Nothing was tried on a closed connection.
 */
export async function expectDrainedOnClose(server: RunningServer, dbFile: string, to: Address, statuses: () => number[]): Promise<void> {
  await server.close({ timeoutMs: 10_000 });
  const store = await openSqliteStore(dbFile);
  try {
    const messages = await store.messagesTo(to, 0, 100);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.map((message) => message.status)).toEqual(messages.map(() => 'sent'));
    expect(statuses()).toEqual(messages.map(() => 200));
  } finally {
    await store.close();
  }
}
