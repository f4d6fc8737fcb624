import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/channel.js';
import { createEngine } from '../../src/core/engine.js';
import type { Engine, EngineOptions } from '../../src/core/engine-types.js';
import { DeliveryError } from '../../src/core/errors.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import type { Store } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { echoFlow, echoOrderFlow, surveyFlow, type EchoServices } from './echo-flows.js';

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const bob: Address = { channel: 'test', account: 'shop', user: 'bob' };

interface Sent {
  to: string;
  text: string;
}

/** A channel that records what it sends and fails as a test script says. */
function recordingChannel(fail?: (to: Address, text: string, attempt: number) => Error | undefined): Channel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    name: 'test',
    sent,
    async send(to, message: OutboundMessage, context) {
      const text = message.kind === 'text' ? message.text : message.kind;
      const error = fail?.(to, text, context.attempt);
      if (error) throw error;
      sent.push({ to: to.user, text });
      return { platformId: `m${context.outboxId}` };
    },
  };
}

const text = (id: string, address: Address, body: string, at = 1_000) => ({
  type: 'text' as const,
  id,
  key: conversationKey(address),
  at,
  address,
  text: body,
});

const stores: [string, () => Store][] = [
  ['memory', () => createMemoryStore()],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'orderly-engine-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return openSqliteStore(join(dir, 'engine.db'));
    },
  ],
];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function engineOn(store: Store, channel: Channel, extra: Partial<EngineOptions<EchoServices>> = {}): Engine {
  const engine = createEngine({
    store,
    flows: [echoFlow, echoOrderFlow, surveyFlow],
    services: { prefix: '#' },
    channels: [channel],
    baseBackoffMs: 5,
    maxBackoffMs: 20,
    ...extra,
  });
  cleanups.push(async () => {
    await engine.stop({ timeoutMs: 1_000 });
    await store.close();
  });
  return engine;
}

describe.each(stores)('engine on the %s store', (_name, open) => {
  it('answers the same inbound event ingested twice once', async () => {
    const channel = recordingChannel();
    const engine = engineOn(open(), channel);
    await engine.start();
    const first = await engine.ingest([text('m1', alice, 'hello')]);
    const second = await engine.ingest([text('m1', alice, 'hello')]);
    await engine.idle();
    expect(first).toEqual({ accepted: 1, duplicates: 0 });
    expect(second).toEqual({ accepted: 0, duplicates: 1 });
    expect(channel.sent).toEqual([{ to: 'alice', text: '#1:hello' }]);
  });

  it('processes 200 events of one customer ingested concurrently in arrival order', async () => {
    const channel = recordingChannel();
    const engine = engineOn(open(), channel);
    await engine.start();
    await Promise.all(Array.from({ length: 200 }, (_, i) => engine.ingest([text(`m${i}`, alice, `n${i}`)])));
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(Array.from({ length: 200 }, (_, i) => `#${i + 1}:n${i}`));
  });

  it('keeps each customer in order while customers interleave', async () => {
    const channel = recordingChannel();
    const engine = engineOn(open(), channel);
    await engine.start();
    const events = Array.from({ length: 50 }, (_, i) => text(`m${i}`, i % 2 ? alice : bob, `n${i}`));
    await Promise.all(events.map((event) => engine.ingest([event])));
    await engine.idle();
    for (const who of ['alice', 'bob']) {
      const texts = channel.sent.filter((s) => s.to === who).map((s) => s.text.split(':')[1]);
      const expected = events.filter((e) => e.address.user === who).map((e) => e.text);
      expect(texts).toEqual(expected);
    }
  });

  it('retries a failing platform until the reply is delivered, keeping the order', async () => {
    let failures = 0;
    const channel = recordingChannel((_to, body, attempt) => {
      if (body === '#1:a' && attempt < 3) {
        failures++;
        return new DeliveryError('platform 500', { retryable: true });
      }
      return undefined;
    });
    const engine = engineOn(open(), channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'a'), text('m2', alice, 'b')]);
    await engine.idle();
    expect(failures).toBe(3);
    expect(channel.sent.map((s) => s.text)).toEqual(['#1:a', '#2:b']);
  });

  it('marks a permanently refused message failed once and goes on with the next', async () => {
    let tries = 0;
    const channel = recordingChannel((_to, body) => {
      if (body !== '#1:a') return undefined;
      tries++;
      return new DeliveryError('user unavailable', { retryable: false, platformCode: 551 });
    });
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'a'), text('m2', alice, 'b')]);
    await engine.idle();
    expect(tries).toBe(1);
    expect(channel.sent.map((s) => s.text)).toEqual(['#2:b']);
    const log = await store.messagesTo(alice, 0, 10);
    expect(log.map((m) => [m.status, m.error])).toEqual([
      ['failed', 'user unavailable'],
      ['sent', undefined],
    ]);
  });

  it('gives up after maxAttempts and records the effect as failed', async () => {
    const channel = recordingChannel(() => new DeliveryError('platform 500', { retryable: true }));
    const store = open();
    const engine = engineOn(store, channel, { maxAttempts: 3 });
    await engine.start();
    await engine.ingest([text('m1', alice, 'a')]);
    await engine.idle();
    const [message] = await store.messagesTo(alice, 0, 10);
    expect(message?.status).toBe('failed');
    expect(message?.error).toMatch(/gave up after 3 attempts/);
  });

  it('marks a flow failure on its event and keeps serving the customer', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'boom'), text('m2', alice, 'after')]);
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['#1:after']);
    expect(await store.pending(0, 10)).toEqual([]);
  });

  it('creates an order in the commit and runs its lifecycle actor, which tells the conversation', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'order')]);
    await engine.idle();
    const orders = await store.listOrders({ limit: 10 });
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ customer: alice, total: 300, currency: 'EUR', status: 0, paid: false });
    expect(channel.sent.map((s) => s.text)).toEqual([`order ${orders[0]!.id} is 0`, `survey saw order ${orders[0]!.id}`]);
  });

  it('records a notification with no handler configured as failed, quietly, for a later retry', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_object: object, message?: string) => void warnings.push(message ?? '') };
    const store = open();
    const engine = engineOn(store, recordingChannel(), { logger });
    await engine.start();
    await engine.ingest([text('m1', alice, 'order')]);
    await engine.idle();
    const failed = await store.requeueFailed('notify_crm', 0, 10);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toBe('no handler for notify_crm is configured');
    expect(warnings).toEqual([]);
  });

  it('routes an @kind| button to the customer’s own actor of that flow', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([
      { type: 'payload', id: 'p1', key: conversationKey(alice), at: 1, address: alice, payload: '@survey|5' },
      { type: 'payload', id: 'p2', key: conversationKey(alice), at: 2, address: alice, payload: '@nobody|5' },
    ]);
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['survey got 5', 'payload:@nobody|5']);
    expect(await store.load('survey:test:shop:alice' as never)).not.toBeNull();
  });

  it('runs a scheduled command when it comes due', async () => {
    let now = 10_000;
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel, { clock: () => now });
    await engine.start();
    await engine.ingest([text('m1', alice, 'later', now)]);
    await engine.idle();
    expect(channel.sent).toEqual([]);
    now += 2_000;
    await engine.tasksChanged();
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['task:wake up']);
  });

  it('records what the platform says of a sent message in the message log', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'hello')], { wait: true });
    await engine.idle();
    const [sent] = await store.messagesTo(alice, 0, 10);
    const status = (id: string, fields: { messageId?: string; upTo?: number }, value: 'delivered' | 'read', at: number) => ({
      type: 'message_status' as const,
      id,
      key: conversationKey(alice),
      at,
      address: alice,
      status: value,
      ...fields,
    });
    await engine.ingest([status('s1', { messageId: sent!.platformId! }, 'delivered', 5_000)], { wait: true });
    await engine.ingest([status('s2', { upTo: Date.now() + 1_000 }, 'read', 6_000)], { wait: true });
    expect((await store.getOutbox(sent!.id))!.history.map((h) => [h.status, h.at])).toEqual([
      ['sent', expect.any(Number)],
      ['delivered', 5_000],
      ['read', 6_000],
    ]);
    await expect(engine.ingest([status('s3', {}, 'read', 1)])).rejects.toThrow(/either messageId or upTo/);
  });

  it('sends a pushed message as it is, as news, without disturbing the conversation', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    await engine.ingest([text('m1', alice, 'hello')]);
    await engine.ingest(
      [{ type: 'push', id: 'push:r1', key: conversationKey(alice), at: 2, address: alice, message: { kind: 'text', text: 'your parcel left' } }],
      { wait: true },
    );
    await engine.ingest([text('m2', alice, 'again')]);
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['#1:hello', 'your parcel left', '#2:again']);
    const log = await store.messagesTo(alice, 0, 10);
    expect(log[1]!.effect).toMatchObject({ message: { intent: 'update' } });
  });

  it('gives up per effect type, and sends the given-up ones again when asked', async () => {
    let down = true;
    const channel = recordingChannel(() => (down ? new DeliveryError('platform 500', { retryable: true }) : undefined));
    const store = open();
    const engine = engineOn(store, channel, { maxAttempts: { reply: 2 } });
    await engine.start();
    await engine.ingest([text('m1', alice, 'a'), text('m2', bob, 'b')]);
    await engine.idle();
    expect((await store.messagesTo(alice, 0, 10))[0]).toMatchObject({ status: 'failed', attempts: 1 });
    down = false;
    expect(await engine.retryFailed('notify_crm')).toBe(0);
    expect(await engine.retryFailed('reply')).toBe(2);
    await engine.idle();
    expect(channel.sent.map((s) => s.text).sort()).toEqual(['#1:a', '#1:b']);
    expect((await store.messagesTo(alice, 0, 10))[0]).toMatchObject({ status: 'sent' });
  });

  it('answers once the events were processed when asked to wait, counting failures', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    const result = await engine.ingest([text('m1', alice, 'hello'), text('m2', bob, 'boom')], { wait: true });
    expect(result).toEqual({ accepted: 2, duplicates: 0, failed: 1 });
    expect((await store.load(conversationKey(alice)))?.rev).toBe(1);
    expect(await store.pending(0, 10)).toEqual([]);
    expect(await engine.ingest([text('m1', alice, 'hello')], { wait: true })).toEqual({ accepted: 0, duplicates: 1, failed: 0 });
  });

  it('rejects a malformed event naming the field, and stores nothing', async () => {
    const store = open();
    const engine = engineOn(store, recordingChannel());
    await engine.start();
    await expect(engine.ingest([{ ...text('m1', alice, 'x'), at: -1 }])).rejects.toThrow(/event 0\.at/);
    await expect(engine.ingest([{ ...text('m2', alice, 'x'), key: 'nowhere:1' }])).rejects.toThrow(/no flow serves/);
    expect(await store.pending(0, 10)).toEqual([]);
  });

  it('skips the invalid events of a batch when asked to, storing the rest', async () => {
    const channel = recordingChannel();
    const store = open();
    const engine = engineOn(store, channel);
    await engine.start();
    const result = await engine.ingest([text('m1', alice, 'a'), { ...text('m2', bob, 'b'), at: -1 }, text('m3', bob, 'c')], {
      invalid: 'skip',
    });
    expect(result).toEqual({ accepted: 2, duplicates: 0, skipped: 1 });
    await engine.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['#1:a', '#1:c']);
  });

  it('holds ingest while its backlog is full, and lets it through as the backlog drains', async () => {
    const gates: (() => void)[] = [];
    const sent: string[] = [];
    const slow: Channel = {
      name: 'test',
      send: (_to, message) =>
        new Promise((resolve) =>
          gates.push(() => {
            sent.push(message.kind === 'text' ? message.text : message.kind);
            resolve({});
          }),
        ),
    };
    const engine = engineOn(open(), slow, { maxBacklog: 4 });
    await engine.start();
    await Promise.all([1, 2, 3, 4].map((i) => engine.ingest([text(`m${i}`, alice, `n${i}`)])));
    let late = false;
    const fifth = engine.ingest([text('m5', alice, 'n5')]).then(() => (late = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(late).toBe(false);
    const open1 = async () => {
      while (gates.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      gates.shift()!();
    };
    await open1();
    await open1();
    await fifth;
    expect(late).toBe(true);
    for (let i = 0; i < 3; i++) await open1();
    await engine.idle();
    expect(sent).toEqual(['#1:n1', '#2:n2', '#3:n3', '#4:n4', '#5:n5']);
  });

  it('lets waiting callers in first come first served, one for each slot that drains', async () => {
    const gates: (() => void)[] = [];
    const slow: Channel = { name: 'test', send: () => new Promise((resolve) => gates.push(() => resolve({}))) };
    const engine = engineOn(open(), slow, { maxBacklog: 2 });
    await engine.start();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'].map((user) => ({ ...alice, user }));
    await Promise.all([0, 1].map((i) => engine.ingest([text(`m${i}`, users[i]!, 'x')])));
    const admitted: number[] = [];
    const waiting = [2, 3, 4].map((i) => engine.ingest([text(`m${i}`, users[i]!, 'x')]).then(() => admitted.push(i)));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
    await settle();
    expect(admitted).toEqual([]);
    gates.shift()!();
    await settle();
    expect(admitted).toEqual([2]);
    gates.shift()!();
    await settle();
    expect(admitted).toEqual([2, 3]);
    while (admitted.length < 3 || gates.length > 0) {
      gates.shift()?.();
      await settle();
    }
    await Promise.all(waiting);
    expect(admitted).toEqual([2, 3, 4]);
    await engine.idle();
  });

  it('picks up stored events and unsent effects after a restart', async () => {
    const store = open();
    const quiet = recordingChannel(() => new DeliveryError('down', { retryable: true }));
    const first = createEngine({ store, flows: [echoFlow], services: { prefix: '#' }, channels: [quiet], baseBackoffMs: 60_000 });
    await first.ingest([text('m1', alice, 'a')]); // stored, never started: not processed
    await first.start();
    await first.ingest([text('m2', alice, 'b')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.stop({ timeoutMs: 200 });
    const channel = recordingChannel();
    // A minute later, the first engine's retry is due.
    const second = engineOn(store, channel, { clock: () => Date.now() + 61_000 });
    await second.start();
    await second.idle();
    expect(channel.sent.map((s) => s.text)).toEqual(['#1:a', '#2:b']);
  });
});
