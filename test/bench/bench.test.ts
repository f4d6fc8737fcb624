import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/report.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'orderly-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run bench -- --quick` (its script, without npm in between); resolves with its output. */
function runQuickBench(
  out: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out, ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolveRun) => child.once('exit', (code) => resolveRun({ code, stdout, stderr, pid: child.pid! })));
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

const databaseUrl = process.env['TEST_DATABASE_URL'];

describe.skipIf(!databaseUrl)('npm run bench -- --quick on PostgreSQL', () => {
  it('seeds a schema for each row, counts the database CPU, and drops the schemas after', { timeout: 180_000 }, async () => {
    const out = join(dir, 'results-postgres.json');
    const run = await runQuickBench(out, ['--only', 'messenger'], { ...process.env, BENCH_DATABASE_URL: databaseUrl });
    expect(run.code, run.stderr).toBe(0);

    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.rows.map((row) => [row.id, row.store])).toEqual([
      ['messenger-1k', 'postgres'],
      ['messenger-3k', 'postgres'],
    ]);
    for (const row of results.rows) {
      expect(row.sent, row.id).toBeGreaterThan(0);
      expect(row.replied, row.id).toBe(row.sent);
      expect(row.db_cpu_us_per_event, row.id).toEqual(expect.any(Number));
      expect(row.notes.filter((note) => note.includes('MISMATCH')), row.id).toEqual([]);
    }
    expect(run.stderr).toContain('seeded 3,000 customers');
    expect(run.stdout).toMatch(/\d+ \+ \d+ db \|/);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const left = await client.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`orderly_bench_${run.pid}_%`]);
      expect(left.rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});

/** Whether a process with this id is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Here rather than in test/server: `npm start` builds dist/ as the bench does, and the tests
// of one file run one after the other, so the two builds never write the same files at once.
describe('npm start', () => {
  it('builds, serves, and drains and exits when a process manager sends SIGTERM to npm', { timeout: 120_000 }, async () => {
    const npm = process.env['npm_execpath'];
    const child = spawn(npm ? process.execPath : 'npm', npm ? [npm, 'start'] : ['start'], {
      cwd: repo,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: `sqlite:${join(dir, 'start.db')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let serverPid = 0;
    try {
      const listening = new Promise<{ url: string; pid: number }>((resolveListening, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          if (line.includes('"msg":"listening"')) resolveListening(JSON.parse(line) as { url: string; pid: number });
        });
        child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before listening:\n${lines.join('\n')}`)));
      });
      const { url, pid } = await listening;
      serverPid = pid;
      expect(pid).not.toBe(child.pid);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const npmExited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await npmExited;
      for (let waited = 0; alive(pid) && waited < 5_000; waited += 50) await new Promise((done) => setTimeout(done, 50));
      expect(alive(pid), 'the server outlived npm').toBe(false);
      expect(lines.some((line) => line.includes('"msg":"engine stopped"') && line.includes('"drained":true'))).toBe(true);
    } finally {
      if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
