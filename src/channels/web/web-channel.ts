import { randomBytes, randomUUID } from 'node:crypto';
import type { Channel, SendContext, SendResult } from '../../core/channel.js';
import type { InboundEventInput } from '../../core/events.js';
import { conversationKey, type Address } from '../../core/ids.js';
import type { OutboundMessage } from '../../core/outbound.js';
import type { OutboxItem, Store } from '../../core/store.js';
import { parseWebMessage } from './web-message.js';

/** How `createWebChannel` builds the channel. */
export interface WebChannelOptions {
  /** Where the message log is read from: the outbox rows addressed to the customer. */
  readonly store: Store;
  /** The shop's account name in customers' addresses (`WEB_ACCOUNT`). */
  readonly account: string;
  /**
   * How often a waiting long poll looks at the store when nothing woke it (another
   * instance may have sent the message). Milliseconds; 1000 by default.
   */
  readonly pollIntervalMs?: number;
  /** Rows answered at most per poll; 100 by default. */
  readonly pageSize?: number;
}

/** The web channel: its outbound half for the engine, and the inbound and long-poll halves for the routes. */
export interface WebChannel {
  /** The outbound half the engine dispatches replies through. */
  readonly channel: Channel;
  /**
   * A posted body as an inbound event for the customer's conversation; throws
   * `EngineError('BAD_REQUEST')` naming the wrong field.
   */
  toEvent(body: unknown, now: number): InboundEventInput;
  /**
   * The messages sent to `user` with an id above `afterId`, waiting up to `waitMs` for the
   * first one when there is none yet. Answers an empty list on timeout, abort or close.
   */
  waitForMessages(user: string, afterId: number, waitMs: number, signal?: AbortSignal): Promise<OutboxItem[]>;
  /** The customer's address in this channel. */
  address(user: string): Address;
  /** Ends every waiting long poll now, and every later one at once (the server is closing). */
  close(): void;
}

/**
 * A fresh web customer id: 16 random bytes, url-safe base64, 22 characters.
 * @example newWebUserId() // 'q3Xb0c1V2uKkz7mN4pR8sA'
 */
export function newWebUserId(): string {
  return randomBytes(16).toString('base64url');
}

/** After a wake-up, the store is looked at this often for a while: the send is marked right after. */
const HOT_POLL_MS = 10;
const HOT_WINDOW_MS = 1_000;

/**
 * The web channel: customers talk over plain HTTP (the server's `/web/v1` routes, or the
 * CLI chat in-process). Sending records nothing itself, since the outbox row is the
 * message log; it only wakes the customer's long polls.
 * @example
 * const web = createWebChannel({ store, account: 'web' });
 * const engine = createEngine({ store, flows, services, channels: [web.channel] });
 * await engine.ingest([web.toEvent({ user: newWebUserId(), text: 'hi' }, Date.now())]);
 */
export function createWebChannel(options: WebChannelOptions): WebChannel {
  const { store, account } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const pageSize = options.pageSize ?? 100;
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;

  const address = (user: string): Address => ({ channel: 'web', account, user });

  const wake = (user: string): void => {
    const set = waiters.get(user);
    if (set) for (const resolve of [...set]) resolve();
  };

  /** Resolves true when woken for `user`, false on timeout or abort. */
  const sleep = (user: string, ms: number, signal?: AbortSignal): Promise<boolean> =>
    new Promise((resolve) => {
      let set = waiters.get(user);
      if (!set) waiters.set(user, (set = new Set()));
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(onWake);
        if (set.size === 0 && waiters.get(user) === set) waiters.delete(user);
        resolve(woken);
      };
      const onWake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(done, ms, false);
      set.add(onWake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const channel: Channel = {
    name: 'web',
    async send(to: Address, _message: OutboundMessage, context: SendContext): Promise<SendResult> {
      wake(to.user);
      return { platformId: `web:${context.outboxId}` };
    },
  };

  return {
    channel,
    address,
    toEvent(body: unknown, now: number): InboundEventInput {
      const message = parseWebMessage(body);
      const from = address(message.user);
      const base = {
        id: message.id ? `web:${account}:${message.user}:${message.id}` : `web:${randomUUID()}`,
        key: conversationKey(from),
        at: now,
        address: from,
      };
      if ('payload' in message) {
        return { ...base, type: 'payload', payload: message.payload, ...(message.title ? { title: message.title } : {}) };
      }
      return { ...base, type: 'text', text: message.text };
    },
    async waitForMessages(user: string, afterId: number, waitMs: number, signal?: AbortSignal): Promise<OutboxItem[]> {
      const to = address(user);
      const deadline = Date.now() + Math.max(0, waitMs);
      let hotUntil = 0;
      for (;;) {
        const rows = await store.messagesTo(to, afterId, pageSize);
        const now = Date.now();
        if (rows.length > 0 || closed || signal?.aborted || now >= deadline) return rows;
        const pause = Math.min(deadline - now, now < hotUntil ? HOT_POLL_MS : pollIntervalMs);
        if (await sleep(user, pause, signal)) hotUntil = Date.now() + HOT_WINDOW_MS;
      }
    },
    close() {
      closed = true;
      for (const user of [...waiters.keys()]) wake(user);
    },
  };
}
