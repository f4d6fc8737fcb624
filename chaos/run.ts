/**
 * `npm run chaos`: the crash scenario at full size. The real server runs as a child process
 * on a SQLite file with Messenger and a CRM pointed at fakes in this process; a steady load
 * of signed webhooks flows in while the server is SIGKILLed and restarted five times; then
 * every acknowledged event must have its reply, in order, every confirmed order must exist
 * exactly once, and duplicates must stay within kills × maxInFlight. Exits 1 otherwise.
 *
 *   npm run chaos -- [--customers 300] [--events 8] [--buyers 15] [--kills 5] [--rate 100] [--latency 100] [--seed <n>]
 */
import { parseArgs } from 'node:util';
import { defaultCrashOptions, runCrashScenario, type CrashOptions } from './crash-scenario.js';
import { formatReport } from './report.js';

function readOptions(): CrashOptions {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      events: { type: 'string' },
      buyers: { type: 'string' },
      kills: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      latency: { type: 'string' },
    },
  });
  const number = (name: keyof typeof values, fallback: number, min: number): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer of at least ${min}`);
    return value;
  };
  return {
    ...defaultCrashOptions,
    customers: number('customers', defaultCrashOptions.customers, 1),
    eventsEach: number('events', defaultCrashOptions.eventsEach, 1),
    buyers: number('buyers', defaultCrashOptions.buyers, 0),
    kills: number('kills', defaultCrashOptions.kills, 0),
    ratePerSecond: number('rate', defaultCrashOptions.ratePerSecond, 1),
    seed: number('seed', defaultCrashOptions.seed, 0),
    graphLatencyMs: number('latency', defaultCrashOptions.graphLatencyMs, 0),
  };
}

try {
  const options = readOptions();
  console.log(`chaos: seed ${options.seed} (run again with --seed ${options.seed})`);
  const report = await runCrashScenario(options, (line) => console.log(`  ${line}`));
  console.log(formatReport(report));
  process.exitCode = report.problems.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
