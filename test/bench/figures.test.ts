import { describe, expect, it } from 'vitest';
import { combineRounds, withRatios } from '../../bench/rounds.js';
import type { RowResult } from '../../bench/rows.js';
import { matchReplies, percentile } from '../../bench/stats.js';

function row(id: string, events: number, extra: Partial<RowResult> = {}): RowResult {
  return {
    id,
    name: id,
    channel: 'messenger',
    store: 'sqlite',
    customers: 1_000,
    pool: 10,
    connections: 2,
    rate: null,
    events_per_s: events,
    acked_per_s: events,
    ack_p50_ms: 1,
    ack_p99_ms: 2,
    reply_p50_ms: 3,
    reply_p99_ms: 4,
    sent: 100,
    acked: 100,
    replied: 100,
    rss_mb: 100,
    rss_end_mb: 90,
    cpu_us_per_event: 400,
    load_cpu_us_per_event: 50,
    fake_cpu_us_per_event: 30,
    db_cpu_us_per_event: null,
    other_cpu_pct: 0,
    ratio_to_baseline: null,
    rounds: 1,
    notes: [],
    ...extra,
  };
}

describe('the bench figures', () => {
  it('takes percentiles by nearest rank', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([4, 1, 3, 2], 99)).toBe(4);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it("matches each customer's k-th reply with its k-th event", () => {
    const sends = new Map([
      ['a', [10, 20, 30]],
      ['b', [15]],
    ]);
    const match = matchReplies(sends, { a: [12, 25], b: [16, 40] });
    expect([...match.latencies]).toEqual([2, 5, 1]);
    expect(match).toMatchObject({ replied: 4, extra: 1, missing: 1, lastReplyAt: 40 });
  });

  it('takes the ratio to the baseline inside a round, and leaves fixed-rate rows without one', () => {
    const rows = withRatios([row('baseline', 8_000), row('messenger-1k', 2_000), row('rate-1000', 1_000, { rate: 1_000 })]);
    expect(rows.map((r) => r.ratio_to_baseline)).toEqual([1, 0.25, null]);
  });

  it('combines rounds into medians, with the counts added up and the notes kept by round', () => {
    const rounds = [10_000, 6_000, 8_000].map((baseline, i) =>
      withRatios([row('baseline', baseline), row('messenger-1k', [2_000, 1_800, 3_000][i]!, i === 1 ? { notes: ['MISMATCH: …'] } : {})]),
    );
    const [baseline, orderly] = combineRounds(rounds);
    expect(baseline).toMatchObject({ events_per_s: 8_000, ratio_to_baseline: 1, sent: 300, rounds: 3 });
    // Ratios 0.2, 0.3 and 0.375: the median of the ratios, not the ratio of the medians.
    expect(orderly).toMatchObject({ events_per_s: 2_000, ratio_to_baseline: 0.3, replied: 300, notes: ['round 2: MISMATCH: …'] });
    // How far apart the rounds were, for the table: the baseline has no range of its own.
    expect(orderly!.ratio_range).toEqual([0.2, 0.38]);
    expect(baseline!.ratio_range).toBeUndefined();
  });
});
