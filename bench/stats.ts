/**
 * The `p`-th percentile (0-100) of `values`, nearest-rank; NaN when there are none.
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: readonly number[] | Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Replies matched with the events that asked for them. */
export interface ReplyMatch {
  /** Replies that reached the fake. */
  readonly replied: number;
  /** For each matched reply: its arrival minus its event's send, ms. */
  readonly latencies: Float64Array;
  /** Replies beyond a customer's events (a duplicate send, or a reply to something else). */
  readonly extra: number;
  /** Events whose reply has not arrived. */
  readonly missing: number;
  /** When the last reply arrived (`clockMs`), NaN when none did. */
  readonly lastReplyAt: number;
}

/**
 * Matches each customer's k-th reply with its k-th event (each text gets one reply, and a
 * customer's events are answered in order): the event-to-reply latencies.
 * @example matchReplies(new Map([['42', [10, 20]]]), { '42': [13, 24] }).latencies // [3, 4]
 */
export function matchReplies(sends: ReadonlyMap<string, readonly number[]>, arrivals: Readonly<Record<string, readonly number[]>>): ReplyMatch {
  let replied = 0;
  let extra = 0;
  let missing = 0;
  let lastReplyAt = Number.NaN;
  const latencies: number[] = [];
  for (const [customer, times] of Object.entries(arrivals)) {
    replied += times.length;
    const sent = sends.get(customer) ?? [];
    for (let k = 0; k < times.length; k++) {
      const at = times[k]!;
      if (!(at <= lastReplyAt)) lastReplyAt = at;
      const sentAt = sent[k];
      if (sentAt === undefined) extra++;
      else latencies.push(at - sentAt);
    }
  }
  for (const [customer, times] of sends) missing += Math.max(0, times.length - (arrivals[customer]?.length ?? 0));
  return { replied, latencies: Float64Array.from(latencies), extra, missing, lastReplyAt };
}
