import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './children.js';
import type { BenchOptions } from './options.js';
import type { RowResult } from './rows.js';

/** What results.json holds. */
export interface BenchResults {
  readonly machine: {
    readonly cpus: number;
    readonly model: string;
    readonly memory: string;
    readonly node: string;
    readonly platform: string;
    /** The 1-minute load average when the bench started and ended: other work on the machine skews every row. */
    readonly load_average: readonly [number, number];
  };
  readonly versions: Readonly<Record<string, string>>;
  readonly options: {
    readonly connections: number;
    readonly duration_s: number;
    readonly customers: number;
    readonly stored: readonly number[];
    readonly store: string;
    readonly rate: number;
    readonly rounds: number;
    readonly quick: boolean;
  };
  readonly started_at: string;
  readonly rows: readonly RowResult[];
}

function versionOf(name: string): string {
  try {
    const text = readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'flows'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return '?';
  }
}

/**
 * The results file's content: the machine, the versions, the options and the rows (their
 * ratios to the baseline already filled in, see `withRatios` and `combineRounds`).
 */
export function benchResults(options: BenchOptions, rows: readonly RowResult[], startedAt: Date, loadAtStart: number): BenchResults {
  const orderly = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model.trim() ?? '?',
      memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      load_average: [loadAtStart, Math.round(loadavg()[0]! * 100) / 100],
    },
    versions: {
      orderly: `${orderly.version} (${commit()})`,
      node: process.version,
      autocannon: versionOf('autocannon'),
      undici: versionOf('undici'),
      'better-sqlite3': versionOf('better-sqlite3'),
      express: versionOf('express'),
      xstate: versionOf('xstate'),
      zod: versionOf('zod'),
      grammy: versionOf('grammy'),
    },
    options: {
      connections: options.connections,
      duration_s: options.durationMs / 1_000,
      customers: options.pool,
      stored: options.stored,
      store: options.store,
      rate: options.rate,
      rounds: options.rounds,
      quick: options.quick,
    },
    started_at: startedAt.toISOString(),
    rows,
  };
}

const fmt = (value: number | null, digits = 0): string =>
  value === null || !Number.isFinite(value) ? '-' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The ratio to the baseline, with the rounds' lowest and highest when there were several. */
function ratioCell(row: RowResult): string {
  if (row.ratio_to_baseline === null) return '-';
  const range = row.ratio_range ? ` (${row.ratio_range[0].toFixed(2)}–${row.ratio_range[1].toFixed(2)})` : '';
  return `${row.ratio_to_baseline.toFixed(2)}${range}`;
}

/**
 * The one table `npm run bench` prints, with the notes (a MISMATCH among them) under it.
 * @example console.log(formatTable(results));
 */
export function formatTable(results: BenchResults): string {
  const header = ['row', 'events/s', '× base', 'acked/s', 'ack p50/p99 ms', 'reply p50/p99 ms', 'sent', 'replied', 'RSS peak/end MB', 'CPU µs/ev'];
  const body = results.rows.map((row) => [
    row.name,
    fmt(row.events_per_s),
    ratioCell(row),
    fmt(row.acked_per_s),
    `${fmt(row.ack_p50_ms, 1)} / ${fmt(row.ack_p99_ms, 1)}`,
    `${fmt(row.reply_p50_ms, 1)} / ${fmt(row.reply_p99_ms, 1)}`,
    fmt(row.sent),
    row.replied === row.sent ? fmt(row.replied) : `${fmt(row.replied)} MISMATCH`,
    `${fmt(row.rss_mb)} / ${fmt(row.rss_end_mb)}`,
    row.db_cpu_us_per_event === null ? fmt(row.cpu_us_per_event) : `${fmt(row.cpu_us_per_event)} + ${fmt(row.db_cpu_us_per_event)} db`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (i === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  const { machine, options } = results;
  const lines = [
    `${machine.cpus} × ${machine.model}, ${machine.memory}, node ${machine.node}, load average ${machine.load_average.join(' → ')}; ` +
      `${options.connections} connections, ${options.duration_s} s per row${options.rounds > 1 ? ` (medians of ${options.rounds} interleaved rounds)` : ''}, ` +
      `${fmt(options.customers)} customers in the pool, ${options.store}`,
    '',
    line(header),
    rule,
    ...body.map(line),
  ];
  const notes = results.rows.flatMap((row) => row.notes.map((note) => `- ${row.id}: ${note}`));
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}
