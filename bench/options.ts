import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './children.js';

/** How `npm run bench` runs, from its command line. */
export interface BenchOptions {
  /** Keep-alive connections of the load generator. */
  readonly connections: number;
  /** How long each row's measured load lasts, ms. */
  readonly durationMs: number;
  /** How many customers the events come from, round-robin. */
  readonly pool: number;
  /** The stored-customer counts of the scale rows (Messenger), e.g. [1_000, 1_000_000]. */
  readonly stored: readonly number[];
  readonly store: 'sqlite' | 'postgres';
  /** PostgreSQL's URL (`BENCH_DATABASE_URL`), for `store: 'postgres'`. */
  readonly databaseUrl?: string;
  /** The rate of the event-to-reply row, events a second. */
  readonly rate: number;
  /** A fixed rate for the Telegram row (events/s); closed loop like the others when unset. */
  readonly telegramRate?: number;
  /** Row ids (or parts of them) to run; all when empty. */
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Interleaved rounds of every row; the table shows their medians (ratios taken within a round). */
  readonly rounds: number;
  /** How long to wait for the replies after the load stopped before counting them, ms. */
  readonly drainMs: number;
  /** Where the orderly servers write `--cpu-prof` profiles; none when unset. */
  readonly cpuProfDir?: string;
  /** Where the results go (bench/results.json by default). */
  readonly out: string;
}

export const usage = `usage: npm run bench -- [options]
  --connections <n>        load generator connections (50; --quick: 10)
  --duration <seconds>     measured load per row (10; --quick: 1)
  --customers <n>          customer pool the events come from, round-robin (10000; --quick: 300)
  --stored <n,n,…>         customers stored before the scale rows start (1000,1000000; --quick: 1000,3000)
  --store sqlite|postgres  the store (sqlite; postgres when BENCH_DATABASE_URL is set)
  --rate <n>               events/s of the event-to-reply row (1000; --quick: 200)
  --telegram-rate <n>      drive the Telegram row at n events/s instead of closed loop (--quick: 20)
  --only <row,…>           run only the rows whose id contains one of these (baseline, messenger, telegram, 1M, rate)
  --rounds <n>             run every row n times, interleaved, and report the medians (1)
  --drain <seconds>        wait at most this long for the replies after the load (30; --quick: 10)
  --cpu-prof <dir>         write a CPU profile of every orderly server into <dir>
  --out <file>             results file (bench/results.json)
  --quick                  a ~10-second smoke run of every row, for the test suite`;

/** A usage mistake: printed with the usage, exit status 2. */
export class UsageError extends Error {}

function count(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(parsed) || parsed < min) throw new UsageError(`--${name} must be a number of at least ${min} (got ${value})`);
  return parsed;
}

/**
 * Parses the bench's command line (after `npm run bench --`).
 * @example parseBenchOptions(['--quick', '--only', 'baseline,telegram'], process.env)
 */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      customers: { type: 'string' },
      stored: { type: 'string' },
      store: { type: 'string' },
      rate: { type: 'string' },
      'telegram-rate': { type: 'string' },
      only: { type: 'string' },
      drain: { type: 'string' },
      rounds: { type: 'string' },
      'cpu-prof': { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageError('');
  const quick = values.quick === true;
  const databaseUrl = env['BENCH_DATABASE_URL'] || undefined;
  const store = values.store ?? (databaseUrl ? 'postgres' : 'sqlite');
  if (store !== 'sqlite' && store !== 'postgres') throw new UsageError(`--store must be sqlite or postgres (got ${store})`);
  if (store === 'postgres' && !databaseUrl) throw new UsageError('--store postgres needs BENCH_DATABASE_URL=postgres://…');
  const stored = (values.stored ?? (quick ? '1000,3000' : '1000,1000000'))
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => count('stored', part.trim(), 0, 0));
  if (stored.length === 0) throw new UsageError('--stored needs at least one count');
  const connections = count('connections', values.connections, quick ? 10 : 50);
  const pool = count('customers', values.customers, quick ? 300 : 10_000);
  if (pool < connections) throw new UsageError(`--customers (${pool}) must be at least --connections (${connections})`);
  return {
    connections,
    durationMs: count('duration', values.duration, quick ? 1 : 10) * 1_000,
    pool,
    stored,
    store,
    ...(databaseUrl ? { databaseUrl } : {}),
    rate: count('rate', values.rate, quick ? 200 : 1_000),
    ...(values['telegram-rate'] !== undefined || quick ? { telegramRate: count('telegram-rate', values['telegram-rate'], 20) } : {}),
    only: (values.only ?? '').split(',').map((part) => part.trim()).filter((part) => part !== ''),
    quick,
    rounds: Math.floor(count('rounds', values.rounds, 1)),
    drainMs: count('drain', values.drain, quick ? 10 : 30, 0) * 1_000,
    ...(values['cpu-prof'] ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
    out: resolve(values.out ?? resolve(repoRoot, 'bench', 'results.json')),
  };
}
