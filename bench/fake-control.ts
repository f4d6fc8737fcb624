import type { Arrivals, FakeStats } from './fake-platform.js';
import type { BenchChannel } from './webhooks.js';

/**
 * The fake platform's control endpoint, from the orchestrating process.
 * @example const fake = fakeControl(url); await fake.reset();
 */
export function fakeControl(url: string) {
  const call = async <T>(path: string, method: 'GET' | 'POST' = 'GET'): Promise<T> => {
    const response = await fetch(`${url}/_bench/${path}`, { method });
    if (!response.ok) throw new Error(`the fake platform answered ${response.status} to ${path}`);
    return (await response.json()) as T;
  };
  return {
    stats: () => call<FakeStats>('stats'),
    arrivals: () => call<Arrivals>('arrivals'),
    reset: () => call<{ ok: true }>('reset', 'POST'),
    /**
     * Waits until `expected` replies of `channel` arrived; gives up after `maxMs`, after
     * `stallMs` without a new one, or as soon as the pace of the last seconds could not
     * finish by `maxMs`. Answers how many arrived.
     */
    async waitForReplies(channel: BenchChannel, expected: number, maxMs: number, stallMs = 5_000): Promise<number> {
      const started = Date.now();
      const deadline = started + maxMs;
      let first = -1;
      let seen = -1;
      let lastProgress = started;
      for (;;) {
        const got = (await call<FakeStats>('stats'))[channel];
        if (got >= expected) return got;
        if (first < 0) first = got;
        const now = Date.now();
        if (got !== seen) {
          seen = got;
          lastProgress = now;
        }
        if (now >= deadline || now - lastProgress >= stallMs) return got;
        const elapsed = now - started;
        const pace = (got - first) / elapsed;
        if (elapsed >= 3_000 && (expected - got) / Math.max(pace, 1e-9) > deadline - now) return got;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

/** What `fakeControl` answers. */
export type FakeControl = ReturnType<typeof fakeControl>;
