import { messengerText, purchaseScript, signMeta, sleep } from '../test/faults/harness.js';

/**
 * The steady load of the crash scenario: signed Messenger webhooks from many customers,
 * each customer's events one after another (the next only once the last was answered 200,
 * as Meta does per conversation), all customers together paced to a global rate. An event
 * not answered 200 (the server is down, or died mid-request) is posted again, with the same
 * mid, until it is: Meta retries failed deliveries too, and the inbox must deduplicate them.
 */

/** A customer who searches for words nobody sells: each answer echoes its word, so it is attributable. */
export interface Chatter {
  readonly psid: string;
  readonly words: readonly string[];
  /** Per word: answered 200 (at some attempt). */
  readonly acked: boolean[];
}

/** A customer who buys one product through the checkout, from the menu to "confirm". */
export interface Buyer {
  readonly psid: string;
  /** The confirmation was answered 200: the order must exist, exactly once. */
  confirmed: boolean;
  /** Every step was answered 200. */
  completed: boolean;
}

export interface LoadStats {
  /** HTTP requests made (first posts and retries). */
  posts: number;
  /** Events answered 200. */
  acked: number;
  /** Events answered 200 only after at least one failed attempt. */
  ackedAfterRetry: number;
  /** Events never answered 200 before the deadline. */
  gaveUp: number;
  /** Attempts that got no HTTP answer (refused, reset, timed out). */
  connectionErrors: number;
  /** Attempts answered, but not 200, by status. */
  statuses: Record<number, number>;
}

export interface LoadOptions {
  readonly url: string;
  readonly chatters: readonly Chatter[];
  readonly buyers: readonly Buyer[];
  /** Events a second, all customers together. */
  readonly ratePerSecond: number;
  readonly productId: string;
  /** Buyers start at a random moment within this many ms, so purchases meet the kills. */
  readonly buyerSpreadMs: number;
  readonly random: () => number;
  /** Prefix of every mid of this run. */
  readonly runId: string;
  /** Aborted: every customer stops at their next event (the scenario failed half-way). */
  readonly signal?: AbortSignal;
}

/** A chatter's searched words: distinct per customer and position. */
export const chatterWords = (customer: number, count: number): string[] =>
  Array.from({ length: count }, (_, n) => `zq${customer}x${n}`);

/** Paces callers to `ratePerSecond` overall. */
function pacer(ratePerSecond: number): () => Promise<void> {
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + 1_000 / ratePerSecond;
    if (at > now) await sleep(at - now);
  };
}

/** A load under way: its counters, live, and its end. */
export interface RunningLoad {
  readonly stats: LoadStats;
  readonly done: Promise<LoadStats>;
}

/** Starts the load; `stats` counts as it goes, `done` resolves when every customer is through. */
export function startLoad(options: LoadOptions): RunningLoad {
  const stats: LoadStats = { posts: 0, acked: 0, ackedAfterRetry: 0, gaveUp: 0, connectionErrors: 0, statuses: {} };
  return { stats, done: runLoad(options, stats) };
}

async function runLoad(options: LoadOptions, stats: LoadStats): Promise<LoadStats> {
  const pace = pacer(options.ratePerSecond);
  const { random } = options;

  /** Posts one event until it is answered 200 (or 90 s pass); answers whether it was. */
  async function deliver(body: Record<string, unknown>): Promise<boolean> {
    const raw = JSON.stringify(body);
    const signature = signMeta(raw);
    const deadline = Date.now() + 90_000;
    for (let attempt = 0; Date.now() < deadline && !options.signal?.aborted; attempt++) {
      stats.posts++;
      try {
        const response = await fetch(`${options.url}/webhooks/messenger`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body: raw,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.status === 200) {
          stats.acked++;
          if (attempt > 0) stats.ackedAfterRetry++;
          return true;
        }
        stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
      } catch {
        stats.connectionErrors++;
      }
      await sleep(200 + random() * 500);
    }
    stats.gaveUp++;
    return false;
  }

  const chatting = options.chatters.map(async (chatter, c) => {
    // Customers start spread over the first second, not all at once.
    await sleep(random() * 1_000);
    for (const [n, word] of chatter.words.entries()) {
      await pace();
      chatter.acked[n] = await deliver(messengerText(chatter.psid, `search ${word}`, `${options.runId}-c${c}-${n}`));
      await sleep(random() * 200);
    }
  });

  const buying = options.buyers.map(async (buyer, b) => {
    await sleep(random() * options.buyerSpreadMs);
    const steps = purchaseScript(buyer.psid, options.productId, `${options.runId}-b${b}`);
    let all = true;
    for (const [index, step] of steps.entries()) {
      await pace();
      const acked = await deliver(step);
      all &&= acked;
      if (index === steps.length - 1) buyer.confirmed = acked;
    }
    buyer.completed = all;
  });

  await Promise.all([...chatting, ...buying]);
  return stats;
}
