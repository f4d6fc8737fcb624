import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startChildServer } from '../child-server.js';

const dir = mkdtempSync(join(tmpdir(), 'orderly-restart-'));
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startChild(database: string) {
  return startChildServer({ DATABASE_URL: `sqlite:${database}` }).then((server) => (children.add(server.child), server));
}

async function postText(url: string, user: string, id: string, text: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/web/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, id, text }),
  });
  return { status: response.status, body: await response.json() };
}

interface Logged {
  id: number;
  message: unknown;
}

/** Polls a customer's log until it holds `count` messages (or `waitSeconds` pass), then once more. */
async function messagesOf(url: string, user: string, count: number): Promise<Logged[]> {
  const log: Logged[] = [];
  const deadline = Date.now() + 15_000;
  let cursor = 0;
  while (log.length < count && Date.now() < deadline) {
    const response = await fetch(`${url}/web/v1/messages?user=${user}&after=${cursor}&wait=5`);
    const page = (await response.json()) as { messages: Logged[]; cursor: number };
    log.push(...page.messages);
    cursor = page.cursor;
  }
  // Anything answered twice would show up right behind the first answer.
  await new Promise((resolvePromise) => setTimeout(resolvePromise, 500));
  const rest = (await (await fetch(`${url}/web/v1/messages?user=${user}&after=${cursor}`)).json()) as { messages: Logged[] };
  return [...log, ...rest.messages];
}

describe('a server killed right after accepting messages', () => {
  it('answers each accepted message exactly once after a restart on the same SQLite file', { timeout: 90_000 }, async () => {
    const database = join(dir, 'orderly.db');
    const users = Array.from({ length: 8 }, (_, i) => `restart-user-${i}-${Date.now().toString(36)}`);

    const first = await startChild(database);
    const accepted = await Promise.all(users.map((user) => postText(first.url, user, 'hello-1', 'hi')));
    first.child.kill('SIGKILL');
    expect(accepted.map((answer) => answer.status)).toEqual(users.map(() => 202));
    await new Promise((resolvePromise) => first.child.once('exit', resolvePromise));

    const second = await startChild(database);
    // A customer who never met the crash shows what one answered "hi" looks like.
    const control = `restart-control-${Date.now().toString(36)}`;
    expect((await postText(second.url, control, 'hello-1', 'hi')).status).toBe(202);
    const expected = await messagesOf(second.url, control, 1);
    expect(expected.length).toBeGreaterThan(0);

    for (const user of users) {
      const log = await messagesOf(second.url, user, expected.length);
      expect(log.map((entry) => entry.message)).toEqual(expected.map((entry) => entry.message));
      // The inbox still knows the message: a client retry is not a new one.
      expect((await postText(second.url, user, 'hello-1', 'hi')).body).toEqual({ accepted: false, duplicate: true });
    }

    second.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolvePromise) => second.child.once('exit', (exitCode) => resolvePromise(exitCode)));
    expect(code).toBe(0);
  });
});
