/**
 * `npm run bench`: orderly under load, end to end, next to a baseline of the same machine.
 *
 * Starts the fake platform (bench/fake-platform.ts) in its own process, then for each row
 * starts the server under test as a child process (orderly through its real entry, built
 * and run compiled as `npm start` does; or bench/baseline.ts), warms it up, drives it over loopback with
 * signed webhooks (bench/load.ts), waits for every reply to reach the fake, and measures.
 * Prints one table and writes bench/results.json. Options: `npm run bench -- --help`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildServer, isMain, startChild } from './children.js';
import { fakeControl } from './fake-control.js';
import { parseBenchOptions, usage, UsageError, type BenchOptions } from './options.js';
import { benchResults, formatTable, type BenchResults } from './report.js';
import { combineRounds, withRatios } from './rounds.js';
import { planRows, runRow, type RowResult } from './rows.js';

/**
 * Runs the bench with `options`; answers the results (also written to `options.out`).
 * @example const results = await runBench(parseBenchOptions(['--quick']));
 */
export async function runBench(options: BenchOptions, log: (line: string) => void = (line) => console.error(line)): Promise<BenchResults> {
  const startedAt = new Date();
  const loadAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const plans = planRows(options);
  if (plans.length === 0) throw new UsageError(`--only ${options.only.join(',')} matches no row`);
  if (plans.some((plan) => plan.server === 'orderly')) {
    log('building the server (npm run build), as npm start does');
    buildServer();
  }
  const dir = mkdtempSync(join(tmpdir(), 'orderly-bench-'));
  const fakeProcess = await startChild({ name: 'fake platform', args: ['--import', 'tsx', 'bench/fake-platform.ts'], env: process.env, ready: { kind: 'log' } });
  const rounds: RowResult[][] = [];
  try {
    const context = { options, fake: fakeControl(fakeProcess.url), fakeUrl: fakeProcess.url, fakeCpuMs: () => fakeProcess.cpuMs(), dir, log };
    for (let round = 0; round < options.rounds; round++) {
      const rows: RowResult[] = [];
      for (const [index, plan] of plans.entries()) {
        log(`${options.rounds > 1 ? `round ${round + 1}/${options.rounds} ` : ''}${plan.id}: ${plan.name}`);
        const row = await runRow(plan, { ...context, index: round * plans.length + index });
        rows.push(row);
        log(`  ${Math.round(row.events_per_s)} events/s, ack p99 ${row.ack_p99_ms} ms, reply p99 ${row.reply_p99_ms} ms, ${row.replied}/${row.sent} replied, RSS ${row.rss_mb} MB`);
      }
      rounds.push(withRatios(rows));
    }
  } finally {
    await fakeProcess.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const results = benchResults(options, combineRounds(rounds), startedAt, loadAtStart);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      if (error.message) console.error(`bench: ${error.message}`);
      console.error(usage);
      return error.message ? 2 : 0;
    }
    throw error;
  }
  if (planRows(options).length === 0) {
    console.error(`bench: --only ${options.only.join(',')} matches no row (rows: ${planRows({ ...options, only: [] }).map((row) => row.id).join(', ')})`);
    return 2;
  }
  const results = await runBench(options);
  console.log(formatTable(results));
  console.log(`\nwritten to ${options.out}`);
  return results.rows.every((row) => row.replied === row.sent) ? 0 : 1;
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
