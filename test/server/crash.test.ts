import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { exited, startChildServer } from '../child-server.js';

const dir = mkdtempSync(join(tmpdir(), 'orderly-crash-'));
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startChild(database: string) {
  return startChildServer({ DATABASE_URL: `sqlite:${database}` }).then((server) => (children.add(server.child), server));
}

async function texts(url: string, user: string): Promise<string[]> {
  const response = await fetch(`${url}/web/v1/messages?user=${user}&after=0`);
  const page = (await response.json()) as { messages: { message: { kind: string; text?: string } }[] };
  return page.messages.map((entry) => entry.message.text ?? entry.message.kind);
}

/** Posts one message for each user and SIGKILLs the server once three quarters were acknowledged; answers who was. */
async function killUnderLoad(database: string, users: readonly string[]): Promise<Set<string>> {
  const first = await startChild(database);
  // Kill while answers are still arriving: some acknowledged events cannot have been processed yet.
  const acknowledged = new Set<string>();
  let killed = false;
  await Promise.allSettled(
    users.map(async (user) => {
      const response = await fetch(`${first.url}/web/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, id: 'm1', text: 'hi' }),
      });
      if (response.status === 202) acknowledged.add(user);
      if (!killed && acknowledged.size >= users.length * 0.75) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }),
  );
  await exited(first.child);
  return acknowledged;
}

describe('a server killed with events acknowledged but not yet processed', () => {
  it('processes each acknowledged event exactly once after a restart', { timeout: 120_000 }, async () => {
    const users = Array.from({ length: 120 }, (_, i) => `crash-user-${String(i).padStart(4, '0')}`);
    // The test means something only if the crash left acknowledged events unprocessed: a
    // run where the server finished them all before the kill landed (a slow client under a
    // loaded machine) is tried again on a fresh file.
    let database = '';
    let acknowledged = new Set<string>();
    let waiting = 0;
    for (let attempt = 1; attempt <= 5 && waiting === 0; attempt++) {
      database = join(dir, `crash-${attempt}.db`);
      acknowledged = await killUnderLoad(database, users);
      expect(acknowledged.size).toBeGreaterThan(0);
      const left = openSqliteStore(database);
      waiting = (await left.pending(0, 10_000)).length;
      await left.close();
    }
    expect(waiting).toBeGreaterThan(0);

    const second = await startChild(database);
    const control = 'crash-control-0001';
    await fetch(`${second.url}/web/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: control, id: 'm1', text: 'hi' }),
    });
    const deadline = Date.now() + 45_000;
    while ((await texts(second.url, control)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const answer = await texts(second.url, control);
    expect(answer.length).toBeGreaterThan(0);
    // Wait for the recovered backlog (slow under a loaded machine), then look once more for doubles.
    const answered = async () => (await Promise.all([...acknowledged].map((user) => texts(second.url, user)))).every((log) => log.length >= answer.length);
    const backlog = Date.now() + 45_000;
    while (!(await answered()) && Date.now() < backlog) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 500));
    for (const user of acknowledged) expect(await texts(second.url, user)).toEqual(answer);
    // A customer whose answer never came may or may not have been stored, but never twice.
    for (const user of users.filter((u) => !acknowledged.has(u))) {
      expect([0, answer.length]).toContain((await texts(second.url, user)).length);
    }
    second.child.kill('SIGTERM');
    await exited(second.child);
  });
});
