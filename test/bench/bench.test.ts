import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/report.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'orderly-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run bench -- --quick` (its script, without npm in between); resolves with its output. */
function runQuickBench(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolveRun) => child.once('exit', (code) => resolveRun({ code, stdout, stderr })));
}

describe('npm run bench -- --quick', () => {
  it('runs every row end to end, prints one table and writes a results file where every event got its reply', { timeout: 180_000 }, async () => {
    const out = join(dir, 'results.json');
    const run = await runQuickBench(out);
    expect(run.code, run.stderr).toBe(0);

    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.versions['orderly']).toMatch(/^\d+\.\d+\.\d+/);
    expect(results.options.quick).toBe(true);
    expect(results.rows.map((row) => row.id)).toEqual(['baseline', 'messenger-1k', 'messenger-3k', 'telegram-1k', 'rate-200']);
    for (const row of results.rows) {
      expect(row.sent, row.id).toBeGreaterThan(0);
      expect(row.acked, row.id).toBe(row.sent);
      expect(row.replied, row.id).toBe(row.sent);
      for (const figure of [row.events_per_s, row.ack_p50_ms, row.ack_p99_ms, row.reply_p50_ms, row.reply_p99_ms, row.rss_mb]) {
        expect(typeof figure, row.id).toBe('number');
      }
      expect(row.notes.filter((note) => note.includes('MISMATCH')), row.id).toEqual([]);
    }
    expect(results.rows[0]!.ratio_to_baseline).toBe(1);
    expect(results.rows.find((row) => row.id === 'messenger-1k')!.ratio_to_baseline).toEqual(expect.any(Number));

    const table = run.stdout.split('\n').filter((line) => line.startsWith('|'));
    expect(table[0]).toMatch(/^\| row +\| events\/s \|/);
    expect(table).toHaveLength(2 + results.rows.length);
    for (const row of results.rows) expect(run.stdout).toContain(row.name);
  });
});
