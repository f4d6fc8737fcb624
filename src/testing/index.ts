import { randomUUID } from 'node:crypto';
import type { Channel } from '../core/channel.js';
import { createEngine } from '../core/engine.js';
import type { Engine } from '../core/engine-types.js';
import type { InboundEventInput } from '../core/events.js';
import type { FlowDefinition } from '../core/flow.js';
import { conversationKey, orderKey, type Address, type OrderId } from '../core/ids.js';
import type { OutboundMessage } from '../core/outbound.js';
import type { OrderRecord, Store } from '../core/store.js';
import { createMemoryStore } from '../stores/memory.js';
import { createTestClock, type TestClock } from './clock.js';

export { createTestClock, type TestClock } from './clock.js';

export interface TestChatOptions<S> {
  readonly flows: readonly FlowDefinition<S>[];
  readonly services: S;
  /** Defaults to a fresh memory store. */
  readonly store?: Store;
  readonly clock?: TestClock;
  /** The customer; defaults to a `test` channel user. */
  readonly address?: Address;
}

/** Distributes an event type over a union, so an event literal keeps its own fields. */
type WithoutEnvelope<T> = T extends unknown ? Omit<T, 'id' | 'key' | 'at' | 'address'> : never;
/** An event for the chat's customer: `id`, `key`, `at` and `address` are filled in. */
export type CustomerEvent = WithoutEnvelope<InboundEventInput>;
/** An event for any actor: `id` and `at` are filled in. */
export type ToldEvent = InboundEventInput extends infer T ? (T extends unknown ? Omit<T, 'id' | 'at'> : never) : never;

export interface TestChat {
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: TestClock;
  readonly address: Address;
  /** Every message the customer received, in order. */
  readonly replies: readonly OutboundMessage[];
  /** The last message the customer received. */
  readonly last: OutboundMessage | undefined;
  /** Sends a text as the customer and waits until everything it caused is done. */
  send(text: string): Promise<OutboundMessage[]>;
  /** Taps a button or quick reply (by its payload, or by its title among the last message's choices). */
  tap(payloadOrTitle: string): Promise<OutboundMessage[]>;
  /** Sends any event as this customer (a cart order, a product question). */
  event(event: CustomerEvent): Promise<OutboundMessage[]>;
  /** Sends an event to another actor, such as `order:<id>` (the merchant moving an order). */
  tell(event: ToldEvent): Promise<OutboundMessage[]>;
  /** The merchant moves an order to a status. */
  setOrderStatus(orderId: number, status: number, trackingUrl?: string): Promise<OutboundMessage[]>;
  /** Moves the clock and runs whatever became due. */
  advance(ms: number): Promise<OutboundMessage[]>;
  /** The conversation's XState state value. */
  state(): Promise<unknown>;
  /** The conversation's XState context. */
  context<C = Record<string, unknown>>(): Promise<C>;
  orders(): Promise<OrderRecord[]>;
  close(): Promise<void>;
}

/**
 * Drives flows in-process through the real engine on a memory store, as one customer.
 * @example
 * const chat = await createTestChat({ flows: shopFlows, services: createShopServices(catalog) });
 * await chat.send('hi');
 * expect(chat.last).toMatchObject({ kind: 'text' });
 */
export async function createTestChat<S>(options: TestChatOptions<S>): Promise<TestChat> {
  const clock = options.clock ?? createTestClock();
  const store = options.store ?? createMemoryStore({ clock });
  const address = options.address ?? { channel: 'test', account: 'shop', user: 'customer-1' };
  const replies: OutboundMessage[] = [];
  let sequence = 0;
  const channel: Channel = {
    name: address.channel,
    async send(_to, message, context) {
      replies.push(message);
      return { platformId: `${address.channel}:${context.outboxId}` };
    },
  };
  const engine = createEngine({ store, flows: options.flows, services: options.services, channels: [channel], clock });
  await engine.start();
  const key = conversationKey(address);

  async function run(events: InboundEventInput[]): Promise<OutboundMessage[]> {
    const before = replies.length;
    await engine.ingest(events);
    await engine.idle();
    return replies.slice(before);
  }
  const mine = (event: CustomerEvent): InboundEventInput =>
    ({ ...event, id: `test-${++sequence}-${randomUUID()}`, key, at: clock(), address }) as InboundEventInput;

  return {
    engine,
    store,
    clock,
    address,
    get replies() {
      return replies;
    },
    get last() {
      return replies[replies.length - 1];
    },
    send: (text) => run([mine({ type: 'text', text })]),
    tap(payloadOrTitle) {
      const choice = choicesOf(replies[replies.length - 1]).find((c) => c.title === payloadOrTitle);
      return run([mine({ type: 'payload', payload: choice?.payload ?? payloadOrTitle, ...(choice ? { title: choice.title } : {}) })]);
    },
    event: (event) => run([mine(event)]),
    tell: (event) => run([{ ...event, id: `test-${++sequence}-${randomUUID()}`, at: clock() } as InboundEventInput]),
    setOrderStatus: (orderId, status, trackingUrl) =>
      run([
        {
          type: 'order_status',
          id: `test-${++sequence}-${randomUUID()}`,
          key: orderKey(orderId as OrderId),
          at: clock(),
          orderId,
          status,
          ...(trackingUrl ? { trackingUrl } : {}),
        },
      ]),
    async advance(ms) {
      const before = replies.length;
      clock.advance(ms);
      await engine.tasksChanged();
      await engine.idle();
      return replies.slice(before);
    },
    async state() {
      const stored = await store.load(key);
      return (stored?.snapshot as { value?: unknown } | undefined)?.value;
    },
    async context<C>() {
      const stored = await store.load(key);
      return ((stored?.snapshot as { context?: unknown } | undefined)?.context ?? {}) as C;
    },
    async orders() {
      const all = await store.listOrders({ limit: 1_000 });
      return all.filter((order) => conversationKey(order.customer) === key);
    },
    async close() {
      await engine.stop({ timeoutMs: 1_000 });
      await store.close();
    },
  };
}

/** The choices a message offers: its buttons with payloads, quick replies, and product buttons. */
export function choicesOf(message: OutboundMessage | undefined): { title: string; payload: string }[] {
  if (!message) return [];
  const out: { title: string; payload: string }[] = [];
  const add = (items: readonly { title: string; payload?: string }[] | undefined) => {
    for (const item of items ?? []) if (item.payload) out.push({ title: item.title, payload: item.payload });
  };
  if (message.kind === 'text') add(message.buttons as { title: string; payload?: string }[] | undefined);
  if (message.kind === 'products') for (const product of message.products) add(product.buttons as { title: string; payload?: string }[]);
  if (message.kind === 'text' || message.kind === 'products') add(message.quickReplies);
  return out;
}
