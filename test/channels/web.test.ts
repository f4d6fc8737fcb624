import { describe, expect, it } from 'vitest';
import { createWebChannel, newWebUserId } from '../../src/channels/web/index.js';
import { EngineError } from '../../src/core/errors.js';
import { conversationKey } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const user = 'customer-0001';

/** Stores an inbound text and commits one reply to it, as the engine would. */
async function replyTo(store: Store, text: string): Promise<number> {
  const address = { channel: 'web', account: 'shop', user };
  const key = conversationKey(address);
  const [item] = await store.append([{ type: 'text', id: `in:${text}`, key, at: 1, address, text: 'hi' }]);
  const previous = await store.load(key);
  const [result] = await store.commit([
    {
      key,
      seq: item!.seq,
      expectedRev: previous?.rev ?? 0,
      envelope: { flowId: 'echo', flowVersion: 1, snapshot: {} },
      outbox: [{ lane: key, effect: { type: 'reply', to: address, message: { kind: 'text', text } } }],
      inbox: [],
      createOrders: [],
      updateOrders: [],
      tasks: [],
      at: 2,
    },
  ]);
  if (!result?.ok) throw new Error('commit failed');
  return result.outbox[0]!.id;
}

describe('newWebUserId', () => {
  it('makes 22 url-safe characters, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, newWebUserId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('the web channel', () => {
  const web = createWebChannel({ store: createMemoryStore(), account: 'shop' });

  it('turns a text into an event of the customer conversation', () => {
    expect(web.toEvent({ user, text: ' hi ' }, 1_000)).toEqual({
      type: 'text',
      id: expect.stringMatching(/^web:[0-9a-f-]{36}$/),
      key: 'conv:web:shop:customer-0001',
      at: 1_000,
      address: { channel: 'web', account: 'shop', user },
      text: 'hi',
    });
  });

  it('turns a tapped choice into a payload event, deduplicated by the client message id', () => {
    const event = web.toEvent({ user, payload: 'cat:mugs', title: 'Mugs', id: 'c-7' }, 5);
    expect(event).toMatchObject({ type: 'payload', id: 'web:shop:customer-0001:c-7', payload: 'cat:mugs', title: 'Mugs' });
    expect(web.toEvent({ user, payload: 'cat:mugs', id: 'c-7' }, 6).id).toBe(event.id);
  });

  it('names the wrong field of a bad body', () => {
    const refused = (body: unknown) => {
      try {
        web.toEvent(body, 0);
      } catch (error) {
        expect(error).toBeInstanceOf(EngineError);
        expect((error as EngineError).code).toBe('BAD_REQUEST');
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(null)).toMatch(/JSON object/);
    expect(refused({ text: 'hi' })).toMatch(/^user /);
    expect(refused({ user, text: '' })).toMatch(/^text must not be empty/);
    expect(refused({ user, text: 'hi', id: 'has space' })).toMatch(/^id /);
    expect(refused({ user, payload: 'x', extra: 1 })).toBe('unknown field extra');
  });

  it('answers a send with the outbox id as the platform id', async () => {
    await expect(web.channel.send(web.address(user), { kind: 'text', text: 'x' }, { outboxId: 41, attempt: 0 })).resolves.toEqual({
      platformId: 'web:41',
    });
  });
});

describe('waitForMessages', () => {
  it('answers the messages already there at once', async () => {
    const store = createMemoryStore();
    const web = createWebChannel({ store, account: 'shop' });
    const id = await replyTo(store, 'hello');
    const rows = await web.waitForMessages(user, 0, 10_000);
    expect(rows.map((row) => row.id)).toEqual([id]);
    expect(await web.waitForMessages(user, id, 0)).toEqual([]);
  });

  it('wakes when a message is sent to the customer', async () => {
    const store = createMemoryStore();
    const web = createWebChannel({ store, account: 'shop', pollIntervalMs: 60_000 });
    const waiting = web.waitForMessages(user, 0, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const id = await replyTo(store, 'hello');
    await web.channel.send(web.address(user), { kind: 'text', text: 'hello' }, { outboxId: id, attempt: 0 });
    expect((await waiting).map((row) => row.id)).toEqual([id]);
  });

  it('answers nothing when the wait ends, the request goes away or the channel closes', async () => {
    const web = createWebChannel({ store: createMemoryStore(), account: 'shop' });
    expect(await web.waitForMessages(user, 0, 30)).toEqual([]);
    const gone = new AbortController();
    const aborted = web.waitForMessages(user, 0, 60_000, gone.signal);
    gone.abort();
    expect(await aborted).toEqual([]);
    const closing = web.waitForMessages(user, 0, 60_000);
    web.close();
    expect(await closing).toEqual([]);
    expect(await web.waitForMessages(user, 0, 60_000)).toEqual([]);
  });
});
