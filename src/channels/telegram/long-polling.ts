import type { Bot, Transformer } from 'grammy';
import { allowedUpdates } from './parse-update.js';

/** Takes one batch of updates durably; a rejection leaves the batch unconfirmed. */
export type TakeBatch = (updates: readonly unknown[]) => Promise<void>;

export interface LongPolling {
  /** Resolves once polling runs (after `getMe` and `deleteWebhook`); rejects when it cannot start. */
  start(options: { timeoutSeconds: number; onStopped: (error: unknown) => void }): Promise<void>;
  /** Lets a batch being taken finish, confirms what was taken, and ends polling. */
  stop(): Promise<void>;
}

/**
 * Long polling through grammY's `bot.start()` with every batch taken before grammY sees it.
 *
 * grammY asks for the next batch with `offset = last update_id + 1` only after its
 * middleware ran for the whole previous batch, and that request is what confirms the batch
 * to Telegram (bot.ts: `handleUpdates`, then `fetchUpdates`). Taking the batch inside a
 * `getUpdates` transformer puts the durable store one step earlier still: a batch that
 * could not be stored makes that `getUpdates` fail, grammY retries it with the same offset,
 * and nothing is confirmed. Middleware could not give that: a failed update would count as
 * tried, and `bot.stop()` confirms every tried update.
 */
export function createLongPolling(bot: Bot, take: TakeBatch): LongPolling {
  let stopping = false;
  let taking: Promise<void> | undefined;
  let running: Promise<void> | undefined;

  const takeUpdates: Transformer = async (prev, method, payload, signal) => {
    const answer = await prev(method, payload, signal);
    const result: unknown = answer.ok ? answer.result : undefined;
    if (method !== 'getUpdates' || !Array.isArray(result) || result.length === 0) return answer;
    // Once stopping, a batch is not taken and must not reach grammY either, which would
    // count it as tried and confirm it: grammY sees an empty batch, Telegram keeps it.
    if (stopping) return { ok: true, result: [] } as unknown as typeof answer;
    taking = take(result);
    try {
      await taking;
    } finally {
      taking = undefined;
    }
    return answer;
  };
  bot.api.config.use(takeUpdates);

  return {
    start({ timeoutSeconds, onStopped }) {
      stopping = false;
      return new Promise<void>((resolve, reject) => {
        let started = false;
        running = bot
          .start({
            drop_pending_updates: false,
            allowed_updates: [...allowedUpdates],
            timeout: timeoutSeconds,
            onStart: () => {
              started = true;
              resolve();
            },
          })
          .catch((error: unknown) => {
            if (started) onStopped(error);
            else reject(error);
          });
      });
    },
    async stop() {
      if (!running) return;
      stopping = true;
      await taking?.catch(() => undefined);
      // grammY hands a taken batch to its (empty) middleware in microtasks; after them its
      // last tried update is the batch's last, which `bot.stop()` confirms.
      await new Promise((resolve) => setImmediate(resolve));
      if (bot.isRunning()) await bot.stop().catch(() => undefined);
      // grammY's getMe at start cannot be cancelled: do not wait for an API that never answers.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      clearTimeout(timer);
      running = undefined;
    },
  };
}
