import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (chaos/ is one level down). */
export const repoRoot = resolve(fileURLToPath(import.meta.url), '../..');

/** What a start of the server left in its first log lines. */
export interface StartRecord {
  readonly pid: number;
  /** From spawn to the "listening" line, ms. */
  readonly startMs: number;
  /** The backlog the engine found in the file: events waiting, effects not yet sent. */
  readonly queued: number;
  readonly outbox: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free TCP port on loopback, to run every incarnation of the server on the same address. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}

/**
 * Runs `node --import tsx src/cli.ts start` as a child process, again and again on the same
 * port and environment (so the same SQLite file): started, killed with SIGKILL, started again.
 * Every output line goes to `onLine` (stdout and stderr alike).
 */
export class ServerSupervisor {
  #child: ChildProcess | undefined;
  readonly starts: StartRecord[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the server and resolves once it logged "listening" (60 s at most). */
  async start(): Promise<StartRecord> {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      cwd: repoRoot,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLine(line, 'stderr'));
    let backlog = { queued: 0, outbox: 0 };
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => void (stderrTail = (stderrTail + chunk.toString()).slice(-2_000)));
    const record = await new Promise<StartRecord>((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not listen within 60 s: ${stderrTail}`)), 60_000);
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code ?? signal}) before listening: ${stderrTail}`));
      };
      child.once('exit', exited);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        this.onLine(line, 'stdout');
        if (!line.startsWith('{')) return;
        let entry: { msg?: unknown; queued?: unknown; outbox?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if (entry.msg === 'engine started') backlog = { queued: Number(entry.queued ?? 0), outbox: Number(entry.outbox ?? 0) };
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          child.off('exit', exited);
          resolveStart({ pid: child.pid ?? 0, startMs: Math.round(performance.now() - started), ...backlog });
        }
      });
    });
    this.starts.push(record);
    return record;
  }

  /** SIGKILL: no drain, no goodbye. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM: the server drains and exits; answers its exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const gone = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await gone;
    clearTimeout(timer);
    return code;
  }
}
