import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ is one level down). */
export const repoRoot = resolve(fileURLToPath(import.meta.url), '../..');

/** What `npm start` runs once it has built: the compiled server. */
export const serverEntry = ['dist/src/cli.js', 'start'] as const;

/**
 * Builds the server as `npm start` does before it starts it (`tsc -p tsconfig.build.json`,
 * incremental: a few seconds when nothing changed), so the bench measures what users run.
 * Throws with tsc's output when the build fails.
 */
export function buildServer(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`the build failed (npm run build):\n${output.trim() || String(error)}`);
  }
}

/** A process the bench started: a server under test or the fake platform. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  /** The peak resident set size so far (`VmHWM`), in MB; NaN where /proc is missing. */
  peakRssMb(): number;
  /** The resident set size now (`VmRSS`), in MB; NaN where /proc is missing. */
  rssMb(): number;
  /** CPU time (user + system) used so far, in ms; NaN where /proc is missing. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartChildOptions {
  readonly name: string;
  /** Arguments after `node`, e.g. `['--import', 'tsx', 'src/cli.ts', 'start']`. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /**
   * How to know it is ready: the `{"msg":"listening","url":…}` line on stdout, or a URL
   * (`http://127.0.0.1:<port>` plus a path answering 2xx) polled until it answers.
   */
  readonly ready: { readonly kind: 'log' } | { readonly kind: 'poll'; readonly url: string; readonly path: string };
  readonly timeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node <args>` in the repository root and resolves once it is ready. Its stderr is
 * kept (the last 4 KB) for the error when it exits early.
 * @example
 * const fake = await startChild({ name: 'fake', args: ['--import', 'tsx', 'bench/fake-platform.ts'], env: process.env, ready: { kind: 'log' } });
 */
export async function startChild(options: StartChildOptions): Promise<Child> {
  const child = spawn(process.execPath, [...options.args], { cwd: repoRoot, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4_096)));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      reject(new Error(`${options.name} exited (${code ?? signal}) before it was ready:\n${stderr.trim()}`));
    }),
  );
  exited.catch(() => undefined);
  const lines = createInterface({ input: child.stdout! });
  const stdoutTail: string[] = [];
  const logged = new Promise<string>((resolveUrl) => {
    lines.on('line', (line) => {
      stdoutTail.push(line);
      if (stdoutTail.length > 20) stdoutTail.shift();
      if (!line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
        if (entry.msg === 'listening' && typeof entry.url === 'string') resolveUrl(entry.url);
      } catch {
        // not a log line
      }
    });
  });
  const ready = options.ready.kind === 'log' ? logged : poll(options.ready.url, options.ready.path).then(() => (options.ready as { url: string }).url);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${options.name} was not ready after ${options.timeoutMs ?? 60_000} ms:\n${stderr.trim()}`)), options.timeoutMs ?? 60_000);
  });
  let url: string;
  try {
    url = await Promise.race([ready, exited, timeout]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    url,
    peakRssMb: () => statusField(pid, 'VmHWM') / 1024,
    rssMb: () => statusField(pid, 'VmRSS') / 1024,
    cpuMs: () => cpuMsOf(pid),
    stop: (graceMs = 20_000) => stopChild(child, graceMs),
  };
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

async function poll(url: string, path: string): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${url}${path}`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** A `kB` field of /proc/<pid>/status, e.g. `VmHWM`; NaN when unreadable. */
function statusField(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of /proc/<pid>/stat, in ms; NaN when the process is gone. */
function cpuMsOf(pid: number): number {
  try {
    return cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a /proc/<pid>/stat line, in ms (Linux reports clock ticks of 1/100 s to user space). */
function cpuMsOfStat(stat: string): number {
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU time (user + system) of every process named `name` right now, ms by pid: a database
 * server's processes, say, that work for the server under test. Empty where /proc is missing.
 * @example const before = cpuMsByName('postgres'); … cpuMsSince(before, cpuMsByName('postgres'))
 */
export function cpuMsByName(name: string): Map<number, number> {
  const found = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return found;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name) found.set(Number(pid), cpuMsOfStat(stat));
    } catch {
      // The process ended meanwhile.
    }
  }
  return found;
}

/**
 * The CPU time processes used between two readings of `cpuMsByName`, ms. A process that
 * started in between counts from zero; one that ended in between is missing from the second
 * reading, and its last moments with it.
 */
export function cpuMsSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let ms = 0;
  for (const [pid, now] of after) ms += Math.max(0, now - (before.get(pid) ?? 0));
  return ms;
}

/**
 * CPU time the whole machine has been busy since boot (all cores, user + nice + system + irq
 * + softirq + steal, from /proc/stat), in ms; NaN where /proc is missing.
 * @example const before = machineBusyMs(); … const busyMs = machineBusyMs() - before;
 */
export function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * A TCP port free on `host` right now (the kernel picks it), for a server that must be told
 * its port before it starts.
 * @example const port = await freePort();
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * True when the module at `moduleUrl` is the one node was asked to run.
 * @example if (isMain(import.meta.url)) await main();
 */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(moduleUrl);
}
