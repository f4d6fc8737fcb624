import { describe, expect, it } from 'vitest';
import { defaultCrashOptions, runCrashScenario } from '../../chaos/crash-scenario.js';
import { formatReport } from '../../chaos/report.js';

/**
 * The short version of `npm run chaos`: the real server as a child process, SIGKILLed twice
 * under a steady load of signed Messenger webhooks and restarted on the same SQLite file.
 * Every acknowledged event is answered, in order; every confirmed order exists once; a
 * duplicate send is possible only for a send in flight at a kill (at most 64 per kill).
 */

describe('a server killed under load', () => {
  it('loses nothing, keeps each customer’s order, and duplicates only sends in flight at a kill', { timeout: 120_000 }, async () => {
    const report = await runCrashScenario({
      ...defaultCrashOptions,
      customers: 60,
      eventsEach: 5,
      buyers: 4,
      kills: 2,
      ratePerSecond: 30,
      seed: Number(process.env.FAULT_SEED ?? 4_242),
    });
    console.log(formatReport(report));
    expect(report.kills).toHaveLength(2);
    expect(report.problems).toEqual([]);
    expect(report.load.connectionErrors, 'the load met the kills').toBeGreaterThan(0);
    expect(report.outcome.orders).toEqual({ expected: 4, found: 4, exactlyOnce: 4 });
    expect(report.outcome.duplicates.total).toBeLessThanOrEqual(2 * 64);
  });
});
