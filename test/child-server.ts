import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: where `src/cli.ts` is run from. */
export const repo = resolve(fileURLToPath(import.meta.url), '../..');

export interface ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly instanceId: string;
}

/**
 * Runs the real server entry (`orderly start`, as `npm start` does) as a child process on a
 * free loopback port; resolves once it logged "listening", with its url.
 * @example const { child, url } = await startChildServer({ DATABASE_URL: 'sqlite:/tmp/x.db' });
 */
export function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: repo,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-8_192)));
  return new Promise((resolvePromise, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"listening"')) return;
      const { url, instanceId } = JSON.parse(line) as { url: string; instanceId: string };
      resolvePromise({ child, url, instanceId });
    });
    child.once('exit', (code, signal) => reject(new Error(`the server exited (${code ?? signal}) before listening: ${stderr}`)));
  });
}

/** Resolves once the process exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((done) => child.once('exit', () => done()));
}
