import type { SendContext, SendResult } from '../../core/channel.js';
import { DeliveryError } from '../../core/errors.js';

/** How far each multi-part message got, by outbox id, so a retry resumes after the parts that went. */
export type PartProgress = Map<number, number>;

const maxTracked = 10_000;

/**
 * Sends a message rendered as several platform messages (a long text split, a text then a
 * carousel) one after the other, answering the last part's platform id. A retry of the
 * same outbox row skips the parts that already went, so a failure halfway does not repeat
 * them (within this process; a crash in between may).
 * @example
 * await sendParts(bodies, context, progress, async (body) => (await graph.post(path, body)).message_id);
 */
export async function sendParts<T>(
  parts: readonly T[],
  context: SendContext,
  progress: PartProgress,
  post: (part: T) => Promise<string | undefined>,
): Promise<SendResult> {
  const single = parts.length === 1;
  let index = single ? 0 : (progress.get(context.outboxId) ?? 0);
  let platformId: string | undefined;
  for (; index < parts.length; index++) {
    try {
      platformId = await post(parts[index] as T);
    } catch (error) {
      const final = error instanceof DeliveryError && !error.delivery.retryable;
      if (final) progress.delete(context.outboxId);
      else if (!single && index > 0) remember(progress, context.outboxId, index);
      throw error;
    }
  }
  if (!single) progress.delete(context.outboxId);
  return platformId === undefined ? {} : { platformId };
}

function remember(progress: PartProgress, outboxId: number, done: number): void {
  progress.delete(outboxId);
  if (progress.size >= maxTracked) {
    const oldest = progress.keys().next();
    if (!oldest.done) progress.delete(oldest.value);
  }
  progress.set(outboxId, done);
}
