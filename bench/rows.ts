import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cpuMsByName, cpuMsSince, freePort, machineBusyMs, serverEntry, startChild, type Child } from './children.js';
import type { FakeControl } from './fake-control.js';
import { closedLoop, paced, type LoadResult } from './load.js';
import type { BenchOptions } from './options.js';
import { dropPostgresSchema, seedPostgres, seedSqlite } from './seed.js';
import { matchReplies, percentile } from './stats.js';
import { benchSecrets, createEventSource, customerId, poolCustomer, webhookPath, type BenchChannel } from './webhooks.js';

/** One row of the table: a server, a channel, a store, a load. */
export interface RowPlan {
  /** Short and stable, for `--only`: `baseline`, `messenger-1k`, `messenger-1M`, `telegram-1k`, `rate-1000`. */
  readonly id: string;
  readonly name: string;
  readonly server: 'baseline' | 'orderly';
  readonly channel: BenchChannel;
  /** Customers stored before the server starts. */
  readonly stored: number;
  /** Closed loop at the connection count, or open loop at a fixed rate (events/s). */
  readonly rate?: number;
  /** Events of the warm-up (closed loop), each reply awaited before the measured load. */
  readonly warmup: number;
}

/** A row's figures, as results.json holds them. */
export interface RowResult {
  readonly id: string;
  readonly name: string;
  readonly channel: BenchChannel;
  readonly store: string;
  /** Customers stored before the server started. */
  readonly customers: number;
  readonly pool: number;
  readonly connections: number;
  /** The fixed rate of an open-loop row, events/s; null for a closed-loop one. */
  readonly rate: number | null;
  /** Events acknowledged AND replied, per second from the first POST to the last reply or ack. */
  readonly events_per_s: number;
  /** Events acknowledged 2xx per second while the load ran. */
  readonly acked_per_s: number;
  readonly ack_p50_ms: number;
  readonly ack_p99_ms: number;
  readonly reply_p50_ms: number;
  readonly reply_p99_ms: number;
  readonly sent: number;
  readonly acked: number;
  readonly replied: number;
  /** Peak RSS of the server process (VmHWM), warm-up included, read at the end of the row. */
  readonly rss_mb: number;
  /** RSS of the server process (VmRSS) at the end of the row, once every reply is in. */
  readonly rss_end_mb: number;
  /** Server CPU time (user + system) during the measured load and the drain, per event. */
  readonly cpu_us_per_event: number;
  /** The same for the load generator (this process) and the fake platform: they share the machine. */
  readonly load_cpu_us_per_event: number;
  readonly fake_cpu_us_per_event: number;
  /**
   * CPU time of the database server's processes per event (PostgreSQL on this machine), part
   * of the work of every event; null for SQLite (in the server's process) or a database elsewhere.
   */
  readonly db_cpu_us_per_event: number | null;
  /**
   * The machine's CPU used by other processes during the measured load and drain, as a
   * percentage of all its cores: above a few percent, the row's figures are skewed.
   */
  readonly other_cpu_pct: number;
  readonly ratio_to_baseline: number | null;
  /**
   * The lowest and highest ratio of the rounds (with `--rounds` above 1): how far apart the
   * rounds were, which on a shared or throttled machine can be a good part of the figure.
   */
  readonly ratio_range?: readonly [number, number];
  /** How many rounds the figures are the medians of (see `--rounds`). */
  readonly rounds: number;
  readonly notes: readonly string[];
}

/** What every row shares: the options, the fake platform, a scratch directory. */
export interface RowContext {
  readonly options: BenchOptions;
  readonly fake: FakeControl;
  readonly fakeUrl: string;
  /** The fake platform's CPU time so far, ms. */
  readonly fakeCpuMs: () => number;
  readonly dir: string;
  readonly log: (line: string) => void;
  /** The row's place in the run (0, 1, …): its events' ids differ from every other row's. */
  readonly index: number;
}

/**
 * What the Telegram row lets the server send a second over all chats (`TELEGRAM_MAX_PER_SECOND`):
 * far above Telegram's 30, which would make the row measure the throttle. Each chat still
 * keeps Telegram's own limit (a burst of 10, then one a second).
 */
const telegramMaxPerSecond = 100_000;

const short = (n: number) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1_000 && n % 1_000 === 0 ? `${n / 1_000}k` : String(n));

/**
 * The rows of one invocation, in running order: the baseline, orderly on Messenger with each
 * stored-customer count, orderly on Telegram, and the event-to-reply row at a fixed rate.
 * `--only` keeps the rows whose id contains one of its words.
 * @example planRows(parseBenchOptions([])).map((row) => row.id) // ['baseline', 'messenger-1k', 'messenger-1M', 'telegram-1k', 'rate-1000']
 */
export function planRows(options: BenchOptions): RowPlan[] {
  const { store, pool, telegramRate } = options;
  const first = options.stored[0] ?? 1_000;
  const at = (rate: number) => `at ${rate.toLocaleString('en-US')} events/s`;
  const rows: RowPlan[] = [
    { id: 'baseline', name: 'baseline: node:http + HMAC + parse + undici Pool', server: 'baseline', channel: 'messenger', stored: 0, warmup: pool },
    ...options.stored.map(
      (stored): RowPlan => ({ id: `messenger-${short(stored)}`, name: `orderly messenger ${store}, ${short(stored)} stored`, server: 'orderly', channel: 'messenger', stored, warmup: pool }),
    ),
    {
      id: `telegram-${short(first)}`,
      name: `orderly telegram ${store}, ${short(first)} stored${telegramRate ? `, ${at(telegramRate)}` : ''}`,
      server: 'orderly',
      channel: 'telegram',
      stored: first,
      warmup: pool,
      ...(telegramRate ? { rate: telegramRate } : {}),
    },
    {
      id: `rate-${options.rate}`,
      name: `orderly messenger ${store}, ${short(first)} stored, ${at(options.rate)}`,
      server: 'orderly',
      channel: 'messenger',
      stored: first,
      rate: options.rate,
      warmup: pool,
    },
  ];
  if (options.only.length === 0) return rows;
  return rows.filter((row) => options.only.some((word) => row.id.toLowerCase().includes(word.toLowerCase())));
}

/** Starts the row's server: the baseline, or orderly's real entry (compiled, as `npm start` runs it; see `buildServer`). */
async function startServer(plan: RowPlan, context: RowContext, database: Database): Promise<Child> {
  const { options, fakeUrl } = context;
  if (plan.server === 'baseline') {
    return startChild({
      name: 'baseline',
      args: ['--import', 'tsx', 'bench/baseline.ts'],
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', META_APP_SECRET: benchSecrets.appSecret, MESSENGER_PAGE_TOKEN: benchSecrets.pageToken, GRAPH_API_URL: `${fakeUrl}/v21.0` },
      ready: { kind: 'log' },
    });
  }
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...withoutOrderlyVariables(process.env), PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
  if (database.schema) env['DATABASE_SCHEMA'] = database.schema;
  if (plan.channel === 'messenger') {
    Object.assign(env, { META_APP_SECRET: benchSecrets.appSecret, MESSENGER_PAGE_TOKEN: benchSecrets.pageToken, GRAPH_API_URL: `${fakeUrl}/v21.0` });
  } else {
    Object.assign(env, { TELEGRAM_BOT_TOKEN: benchSecrets.botToken, TELEGRAM_MODE: 'webhook', TELEGRAM_WEBHOOK_SECRET: benchSecrets.webhookSecret, TELEGRAM_API_ROOT: fakeUrl, TELEGRAM_MAX_PER_SECOND: String(telegramMaxPerSecond) });
  }
  const profile = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, plan.id)}`] : [];
  return startChild({
    name: `orderly (${plan.id})`,
    args: [...profile, ...serverEntry],
    env,
    // LOG_LEVEL=warn hides the "listening" line: the port is chosen here and polled.
    ready: { kind: 'poll', url: `http://127.0.0.1:${port}`, path: '/healthz' },
  });
}

/** Where a row's server keeps its data: a SQLite file, or a PostgreSQL schema of its own. */
interface Database {
  readonly url: string;
  readonly schema?: string;
}

/** Whether a PostgreSQL URL names a server on this machine (a loopback address or a socket). */
function onThisMachine(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '' || host === 'localhost' || host === '[::1]' || host.startsWith('127.') || host.startsWith('%2F') || host.startsWith('/');
}

/** The environment without any variable of orderly's contract, so the shell's do not leak in. */
function withoutOrderlyVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefixes = ['PORT', 'HOST', 'DATABASE_URL', 'CATALOG_FILE', 'MERCHANT_TOKEN', 'META_', 'GRAPH_API_URL', 'MESSENGER_', 'WHATSAPP_', 'TELEGRAM_', 'CRM_', 'TEMPLATE_', 'API_RATE_LIMIT', 'RETRY_', 'LOG_LEVEL', 'WEB_ACCOUNT'];
  return Object.fromEntries(Object.entries(env).filter(([name]) => !prefixes.some((prefix) => name === prefix || (prefix.endsWith('_') && name.startsWith(prefix)))));
}

/**
 * Runs one row: stores its customers, starts its server, warms it up (closed loop, one event
 * for each customer of the pool — fewer on Telegram — every reply awaited), then loads it,
 * waits (bounded) for the replies, and measures. Each row starts from a database of its own:
 * a copy of a SQLite file seeded once per invocation, or a PostgreSQL schema seeded for the
 * row. The server is stopped and its database removed whatever happens.
 */
export async function runRow(plan: RowPlan, context: RowContext): Promise<RowResult> {
  const { options, fake, log } = context;
  const notes: string[] = [];
  const dbPath = join(context.dir, `${plan.id}.db`);
  const sqlite = options.store === 'sqlite';
  const postgres = !sqlite && plan.server === 'orderly';
  const database: Database = postgres
    ? { url: options.databaseUrl!, schema: `orderly_bench_${process.pid}_${context.index}` }
    : { url: `sqlite:${dbPath}` };
  // PostgreSQL's own processes work for this server: their CPU is the row's too.
  const dbLocal = postgres && onThisMachine(database.url);
  if (postgres && !dbLocal) notes.push('the database runs on another machine: its CPU is not counted');
  let server: Child;
  try {
    await seed(plan, context, database, dbPath);
    server = await startServer(plan, context, database);
  } catch (error) {
    await dropSchema(database);
    throw error;
  }
  try {
    const url = server.url;
    const path = webhookPath(plan.channel);
    const customers = Array.from({ length: options.pool }, (_, j) => customerId(plan.channel, poolCustomer(j, options.pool, plan.stored)));

    await fake.reset();
    const warmSource = createEventSource({ channel: plan.channel, customers, phase: 2 * context.index + 1, prebuild: plan.warmup });
    const warm = await closedLoop({ url, path, connections: options.connections, source: warmSource, amount: plan.warmup });
    const warmReplies = await fake.waitForReplies(plan.channel, warm.sent, options.drainMs);
    const warmRate = warm.acked / Math.max(0.001, (warm.lastAckAt - warm.firstSendAt) / 1_000);
    log(`  warm-up: ${warm.acked}/${warm.sent} acknowledged, ${warmReplies} replied (${Math.round(warmRate)}/s)`);
    if (warmReplies < warm.sent) notes.push(`warm-up: only ${warmReplies} of ${warm.sent} replies arrived`);
    await fake.reset();

    // Sign in advance what the load will send (a short warm-up underestimates the rate).
    const seconds = options.durationMs / 1_000;
    const prebuild = plan.rate
      ? Math.ceil(plan.rate * seconds) + options.connections
      : Math.min(600_000, Math.ceil(Math.max(warmRate * 2, 12_000) * seconds) + options.connections);
    const source = createEventSource({ channel: plan.channel, customers, phase: 2 * context.index + 2, prebuild });
    const cpuBefore = server.cpuMs();
    const dbCpuBefore = dbLocal ? cpuMsByName('postgres') : undefined;
    const fakeCpuBefore = context.fakeCpuMs();
    const loadCpuBefore = process.cpuUsage();
    const machineBefore = machineBusyMs();
    const wallBefore = performance.now();
    const load: LoadResult = plan.rate
      ? await paced({ url, path, connections: options.connections, source, rate: plan.rate, durationMs: options.durationMs })
      : await closedLoop({ url, path, connections: options.connections, source, durationMs: options.durationMs });
    const replied = await fake.waitForReplies(plan.channel, load.sent, options.drainMs);
    const cpuMs = server.cpuMs() - cpuBefore;
    const dbCpuMs = dbCpuBefore ? cpuMsSince(dbCpuBefore, cpuMsByName('postgres')) : null;
    const fakeCpuMs = context.fakeCpuMs() - fakeCpuBefore;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const ownMs = cpuMs + (dbCpuMs ?? 0) + fakeCpuMs + (loadCpu.user + loadCpu.system) / 1_000;
    const otherCpuPct = (100 * (machineBusyMs() - machineBefore - ownMs)) / ((performance.now() - wallBefore) * cpus().length);
    if (otherCpuPct > 10) notes.push(`other processes used ${Math.round(otherCpuPct)}% of the machine's CPU during this row: its figures are skewed`);
    const rssMb = server.peakRssMb();
    const rssEndMb = server.rssMb();
    const arrivals = await fake.arrivals();
    const match = matchReplies(load.sends, arrivals);

    if (load.builtLate > 0) notes.push(`${load.builtLate} events were signed during the load (more than prebuilt)`);
    if (load.refused > 0) notes.push(`${load.refused} requests answered non-2xx`);
    if (load.errors > 0) notes.push(`${load.errors} connection errors or timeouts`);
    if (match.extra > 0) notes.push(`${match.extra} replies beyond the events sent (duplicates?)`);
    if (replied !== load.sent || match.replied !== load.sent) {
      notes.push(`MISMATCH: ${match.replied} replies for ${load.sent} events sent (${match.missing} missing after waiting up to ${options.drainMs / 1_000} s)`);
      if (plan.channel === 'telegram') {
        const perSecond = match.replied / ((match.lastReplyAt - load.firstSendAt) / 1_000);
        notes.push(
          `the Telegram channel throttles its sends (TELEGRAM_MAX_PER_SECOND ${telegramMaxPerSecond}, one a second per chat after a burst of 10): replies left at ${round(perSecond)}/s, the rest waits in the outbox`,
        );
      }
    }
    const end = Math.max(load.lastAckAt, Number.isNaN(match.lastReplyAt) ? load.lastAckAt : match.lastReplyAt);
    const done = Math.min(load.acked, match.replied - match.extra);
    return {
      id: plan.id,
      name: plan.name,
      channel: plan.channel,
      store: plan.server === 'baseline' ? 'none' : options.store,
      customers: plan.stored,
      pool: options.pool,
      connections: options.connections,
      rate: plan.rate ?? null,
      events_per_s: round(done / ((end - load.firstSendAt) / 1_000)),
      acked_per_s: round(load.acked / ((load.lastAckAt - load.firstSendAt) / 1_000)),
      ack_p50_ms: round(percentile(load.ackLatencies, 50), 2),
      ack_p99_ms: round(percentile(load.ackLatencies, 99), 2),
      reply_p50_ms: round(percentile(match.latencies, 50), 2),
      reply_p99_ms: round(percentile(match.latencies, 99), 2),
      sent: load.sent,
      acked: load.acked,
      replied: match.replied,
      rss_mb: round(rssMb, 1),
      rss_end_mb: round(rssEndMb, 1),
      cpu_us_per_event: round((cpuMs * 1_000) / Math.max(1, load.sent)),
      load_cpu_us_per_event: round((loadCpu.user + loadCpu.system) / Math.max(1, load.sent)),
      fake_cpu_us_per_event: round((fakeCpuMs * 1_000) / Math.max(1, load.sent)),
      db_cpu_us_per_event: dbCpuMs === null ? null : round((dbCpuMs * 1_000) / Math.max(1, load.sent)),
      other_cpu_pct: round(Math.max(0, otherCpuPct), 1),
      ratio_to_baseline: null,
      rounds: 1,
      notes,
    };
  } finally {
    await server.stop();
    if (sqlite) for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
    await dropSchema(database);
  }
}

/**
 * Stores the row's customers before its server starts: into a copy of a SQLite file seeded
 * once per invocation (later rounds start from the same file), or into the row's schema.
 */
async function seed(plan: RowPlan, context: RowContext, database: Database, dbPath: string): Promise<void> {
  if (plan.server !== 'orderly' || plan.stored === 0) return;
  const options = { channel: plan.channel, count: plan.stored };
  let ms: number | undefined;
  if (database.schema) {
    ms = (await seedPostgres(database.url, database.schema, options)).ms;
  } else {
    const file = join(context.dir, `seed-${plan.channel}-${plan.stored}.db`);
    if (!existsSync(file)) ms = (await seedSqlite(file, options)).ms;
    copyFileSync(file, dbPath);
  }
  if (ms !== undefined) context.log(`  seeded ${plan.stored.toLocaleString('en-US')} customers in ${(ms / 1_000).toFixed(1)} s`);
}

/** Drops a row's PostgreSQL schema (a SQLite file is removed with the row). */
async function dropSchema(database: Database): Promise<void> {
  if (database.schema) await dropPostgresSchema(database.url, database.schema);
}

function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return Number.NaN;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
