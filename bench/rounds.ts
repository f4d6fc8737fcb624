import type { RowResult } from './rows.js';

/**
 * Fills in each row's ratio to the baseline of the same round: events/s over the baseline's,
 * for closed-loop rows (a fixed-rate row does what it is asked). Without a baseline row, null.
 * @example withRatios(roundRows).find((row) => row.id === 'messenger-1k')?.ratio_to_baseline // 0.31
 */
export function withRatios(rows: readonly RowResult[]): RowResult[] {
  const baseline = rows.find((row) => row.id === 'baseline');
  return rows.map((row) => ({
    ...row,
    ratio_to_baseline:
      baseline && row.rate === null && baseline.events_per_s > 0 ? Math.round((row.events_per_s / baseline.events_per_s) * 100) / 100 : null,
  }));
}

/** The median of the numbers, NaN when there are none. */
function median(values: readonly number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Counts are added up over the rounds; every other figure is the median of the rounds'. */
const summed = new Set<keyof RowResult>(['sent', 'acked', 'replied']);

/**
 * One row per row id from interleaved rounds (each a list of rows with their ratios): the
 * medians of the rounds' figures, their counts added up, their notes kept with the round's
 * number, and the lowest and highest ratio to the baseline. A single round is returned as it is.
 * @example combineRounds([round1, round2, round3])
 */
export function combineRounds(rounds: readonly (readonly RowResult[])[]): RowResult[] {
  if (rounds.length === 1) return [...rounds[0]!];
  const ids = [...new Set(rounds.flatMap((round) => round.map((row) => row.id)))];
  return ids.map((id) => {
    const runs = rounds.map((round) => round.find((row) => row.id === id)).filter((row): row is RowResult => row !== undefined);
    const first = runs[0]!;
    const combined: Record<string, unknown> = { ...first };
    for (const [key, value] of Object.entries(first)) {
      if (typeof value !== 'number') continue;
      const values = runs.map((row) => row[key as keyof RowResult] as number);
      combined[key] = summed.has(key as keyof RowResult) ? values.reduce((a, b) => a + b, 0) : Math.round(median(values) * 100) / 100;
    }
    const ratios = runs.map((row) => row.ratio_to_baseline).filter((ratio): ratio is number => ratio !== null);
    combined['ratio_to_baseline'] = ratios.length > 0 ? Math.round(median(ratios) * 100) / 100 : null;
    if (ratios.length > 1 && id !== 'baseline') combined['ratio_range'] = [Math.min(...ratios), Math.max(...ratios)];
    combined['rounds'] = runs.length;
    combined['notes'] = runs.flatMap((row, i) => row.notes.map((note) => `round ${i + 1}: ${note}`));
    return combined as unknown as RowResult;
  });
}
