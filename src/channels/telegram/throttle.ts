import type { Transformer } from 'grammy';
import { EngineError } from '../../core/errors.js';

/**
 * How fast the bot may send, as token buckets: one over all chats, one per chat. Telegram
 * publishes about 30 messages a second overall, about one a second in one chat with short
 * bursts tolerated, and 20 a minute in a group; a 429 that still comes is auto-retry's.
 * @example
 * createTelegramPlugin({ token, mode: 'webhook', apiRoot, throttle: { ...defaultThrottle, perSecond: 100 } }, deps);
 */
export interface TelegramThrottle {
  /** Calls a second over all chats; the global bucket holds one second's worth. */
  readonly perSecond: number;
  /** One private chat (a positive `chat_id`): `burst` calls at once, then `perSecond` on average. */
  readonly chat: { readonly burst: number; readonly perSecond: number };
  /** One group or channel (a negative `chat_id`, or `@username`): `burst` at once, then `perMinute`. */
  readonly group: { readonly burst: number; readonly perMinute: number };
}

/**
 * Telegram's limits: 30 a second overall, 20 a minute in a group. grammY's own throttler
 * spaces a chat's messages a full second apart, which makes a reply of three messages take
 * three seconds; here a chat may burst ten, refilled at one a second.
 */
export const defaultThrottle: TelegramThrottle = {
  perSecond: 30,
  chat: { burst: 10, perSecond: 1 },
  group: { burst: 20, perMinute: 20 },
};

/** The time source and the timers of a throttle; tests pass a fake one. */
export interface ThrottleClock {
  /** Milliseconds on a clock that never goes back. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A grammY API transformer that also tells how many chats it holds a bucket for. */
export type ThrottleTransformer = Transformer & {
  /** Chats with a bucket in memory; full, idle ones are forgotten as more chats come. */
  readonly chats: number;
};

/** What a throttle runs on; the defaults suit production, tests pass a fake clock. */
export interface ThrottleOptions {
  /** `performance.now()` and Node's timers by default. */
  readonly clock?: ThrottleClock;
  /** How many chat buckets are held before the full, idle ones are swept (10,000 by default). */
  readonly sweepAbove?: number;
}

/** One bucket's rate: a token every `interval` ms, and `slack` ms of them banked (burst − 1). */
interface Rate {
  readonly interval: number;
  readonly slack: number;
}

/**
 * A bucket kept as the one time it is full again (GCRA): a token is there when
 * `now >= fullAt - slack`, taking it moves `fullAt` one interval on. Waiters queue in a
 * doubly linked list, so an aborted one leaves in O(1).
 */
interface Bucket {
  readonly rate: Rate;
  fullAt: number;
  head: Waiter | undefined;
  tail: Waiter | undefined;
  timer: unknown;
}

/** The part of a signal read here (grammY types its own as abort-controller's, without `reason`). */
interface Signal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

interface Waiter {
  readonly run: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: Signal | undefined;
  readonly onAbort: () => void;
  /** The bucket it waits in now: its chat's first, then the global one. */
  bucket: Bucket | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * The throttle as a grammY API transformer. A call with a `chat_id` takes a token from its
 * chat's bucket, then from the global one, each in FIFO order; any other call (getMe,
 * answerCallbackQuery, getUpdates...) passes straight through. A call that finds a token
 * and no queue goes on at once, with no promise or timer of its own; waiters are released
 * by one timer per bucket, set to when its next token is due. A chat's calls keep their
 * order; a call that must wait for the global bucket queues behind all that already wait there.
 * @example
 * bot.api.config.use(autoRetry());
 * bot.api.config.use(createThrottle(defaultThrottle));
 */
export function createThrottle(limits: TelegramThrottle, options: ThrottleOptions = {}): ThrottleTransformer {
  const clock = options.clock ?? systemClock;
  const sweepAbove = options.sweepAbove ?? 10_000;
  const global = bucket(rate(limits.perSecond, limits.perSecond, 1_000), clock.now());
  const chatRate = rate(limits.chat.burst, limits.chat.perSecond, 1_000);
  const groupRate = rate(limits.group.burst, limits.group.perMinute, 60_000);
  const chats = new Map<number | string, Bucket>();
  let sweepAt = sweepAbove;

  function chatBucket(chatId: number | string, now: number): Bucket {
    let found = chats.get(chatId);
    if (found === undefined) {
      if (chats.size >= sweepAt) sweep(now);
      found = bucket(typeof chatId === 'string' || chatId < 0 ? groupRate : chatRate, now);
      chats.set(chatId, found);
    }
    return found;
  }

  /** Forgets the buckets that are full and have nobody waiting: a new one would be the same. */
  function sweep(now: number): void {
    for (const [chatId, held] of chats) if (held.head === undefined && held.fullAt <= now) chats.delete(chatId);
    // Buckets still in use are kept; sweeping again only once the map doubles keeps it amortized O(1).
    sweepAt = Math.max(sweepAbove, chats.size * 2);
  }

  /** Lets waiters through while their bucket has tokens; then waits for the next token. */
  function release(from: Bucket): void {
    from.timer = undefined;
    const now = clock.now();
    while (from.head !== undefined && take(from, now)) {
      const waiter = from.head;
      unlink(waiter);
      if (from === global) go(waiter);
      else if (global.head === undefined && take(global, now)) go(waiter);
      else enqueue(global, waiter, now);
    }
    if (from.head !== undefined) arm(from, now);
  }

  function enqueue(to: Bucket, waiter: Waiter, now: number): void {
    waiter.bucket = to;
    waiter.prev = to.tail;
    waiter.next = undefined;
    if (to.tail === undefined) to.head = waiter;
    else to.tail.next = waiter;
    to.tail = waiter;
    arm(to, now);
  }

  function arm(on: Bucket, now: number): void {
    if (on.timer !== undefined) return;
    const due = on.fullAt - on.rate.slack - now;
    on.timer = clock.setTimeout(() => release(on), Math.max(1, Math.ceil(due)));
  }

  function unlink(waiter: Waiter): void {
    const from = waiter.bucket!;
    if (waiter.prev === undefined) from.head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) from.tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.bucket = waiter.prev = waiter.next = undefined;
    if (from.head === undefined && from.timer !== undefined) {
      clock.clearTimeout(from.timer);
      from.timer = undefined;
    }
  }

  function go(waiter: Waiter): void {
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    try {
      waiter.resolve(waiter.run());
    } catch (error) {
      waiter.reject(error);
    }
  }

  const transformer: Transformer = (prev, method, payload, signal) => {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    if (typeof chatId !== 'number' && typeof chatId !== 'string') return prev(method, payload, signal);
    const now = clock.now();
    const chat = chatBucket(typeof chatId === 'string' && /^-?\d+$/.test(chatId) ? Number(chatId) : chatId, now);
    const chatFree = chat.head === undefined && take(chat, now);
    if (chatFree && global.head === undefined && take(global, now)) return prev(method, payload, signal);
    const abortable = signal as Signal | undefined;
    if (abortable?.aborted) return Promise.reject(abortReason(abortable));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        run: () => prev(method, payload, signal),
        resolve: resolve as (value: unknown) => void,
        reject,
        signal: abortable,
        onAbort: () => {
          if (waiter.bucket === undefined) return;
          unlink(waiter);
          reject(abortReason(abortable!));
        },
        bucket: undefined,
        prev: undefined,
        next: undefined,
      };
      abortable?.addEventListener('abort', waiter.onAbort, { once: true });
      enqueue(chatFree ? global : chat, waiter, now);
    });
  };

  return Object.defineProperty(transformer, 'chats', { get: () => chats.size }) as ThrottleTransformer;
}

function abortReason(signal: Signal): unknown {
  return signal.reason ?? new DOMException('The call was aborted while it waited for the throttle', 'AbortError');
}

function rate(burst: number, amount: number, perMs: number): Rate {
  if (!(burst >= 1) || !(amount > 0) || !Number.isFinite(burst) || !Number.isFinite(amount)) {
    throw new EngineError('CONFIG', `a throttle needs a burst of at least 1 and a positive rate (got ${burst}, ${amount})`);
  }
  const interval = perMs / amount;
  return { interval, slack: (Math.floor(burst) - 1) * interval };
}

function bucket(of: Rate, now: number): Bucket {
  return { rate: of, fullAt: now, head: undefined, tail: undefined, timer: undefined };
}

/** Takes a token when one is there. */
function take(from: Bucket, now: number): boolean {
  if (now < from.fullAt - from.rate.slack) return false;
  from.fullAt = Math.max(from.fullAt, now) + from.rate.interval;
  return true;
}
