import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeCrm, type FakeCrm } from '../test/fakes/crm.js';
import { startFakeGraphApi, type FakeGraphApi } from '../test/fakes/graph-api.js';
import { faultEnv, leakedSecrets, secrets, seededRandom, sleep } from '../test/faults/harness.js';
import { checkOutcome, probeConversations, type Outcome } from './checks.js';
import { chatterWords, startLoad, type Buyer, type Chatter, type LoadStats } from './load.js';
import { freePort, ServerSupervisor, type StartRecord } from './server-process.js';

/** How hard the crash scenario pushes. */
export interface CrashOptions {
  readonly customers: number;
  readonly eventsEach: number;
  readonly buyers: number;
  readonly kills: number;
  /** Webhook events a second, all customers together. */
  readonly ratePerSecond: number;
  /**
   * Where in the load the kills come, as fractions of its events acknowledged: the range is
   * cut in one slot per kill, and each kill comes at a random point of its slot.
   */
  readonly killWindow: readonly [number, number];
  readonly seed: number;
  /** The engine's `maxInFlight` (64 by default): sends in flight at a kill, so the most a kill can duplicate. */
  readonly maxInFlight: number;
  /** How long the fake Graph API takes to answer a send, ms: sends are in flight when the kill comes. */
  readonly graphLatencyMs: number;
}

export const defaultCrashOptions: CrashOptions = {
  customers: 300,
  eventsEach: 8,
  buyers: 15,
  kills: 5,
  ratePerSecond: 100,
  killWindow: [0.05, 0.9],
  seed: Date.now() % 1_000_000,
  maxInFlight: 64,
  graphLatencyMs: 100,
};

export interface KillRecord {
  /** When, ms after the load began. */
  readonly atMs: number;
  /** When, ms since the epoch. */
  readonly at: number;
  /** Whether the load was still running. */
  readonly duringLoad: boolean;
  /** The restart that followed. */
  readonly restart: StartRecord;
}

export interface CrashReport {
  readonly options: CrashOptions;
  readonly first: StartRecord;
  readonly kills: readonly KillRecord[];
  readonly load: LoadStats;
  readonly outcome: Outcome;
  /** Log lines of the server processes, and those that held a secret. */
  readonly logLines: number;
  readonly leaks: readonly string[];
  readonly stderr: readonly string[];
  readonly seconds: number;
  /** Everything that went wrong; empty when the run proves its point. */
  readonly problems: readonly string[];
}

/** The product the buyers buy: in stock, no limit the run could reach. */
const productId = 'earl-grey-100';

/**
 * The crash scenario: the real server as a child process on a SQLite file, Messenger and a
 * CRM pointed at fakes in this process; a steady load of signed webhooks (chatters, and
 * buyers who check out); SIGKILL at random moments, each followed by a restart on the same
 * file while the load keeps posting; then quiet, and the checks of `checks.ts`.
 */
export async function runCrashScenario(options: CrashOptions, log: (line: string) => void = () => undefined): Promise<CrashReport> {
  const began = performance.now();
  const random = seededRandom(options.seed);
  const dir = mkdtempSync(join(tmpdir(), 'orderly-chaos-'));
  const graph: FakeGraphApi = await startFakeGraphApi({ pageToken: secrets.pageToken });
  // The fake records a send when it answers: a send in flight at a kill counts as delivered, as on the real platform.
  if (options.graphLatencyMs > 0) graph.fail({ delayMs: options.graphLatencyMs, times: Infinity });
  const crm: FakeCrm = await startFakeCrm();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stop = new AbortController();
  let logLines = 0;
  const leaks: string[] = [];
  const stderr: string[] = [];
  const supervisor = new ServerSupervisor(
    {
      ...process.env,
      ...faultEnv({ graphUrl: graph.url, dbFile: join(dir, 'orderly.db'), crmUrl: crm.url }),
      PORT: String(port),
      RETRY_BASE_MS: '50',
      RETRY_MAX_MS: '1000',
    },
    (line, stream) => {
      logLines++;
      leaks.push(...leakedSecrets([line]));
      if (stream === 'stderr' && stderr.length < 50) stderr.push(line.slice(0, 500));
    },
  );

  try {
    const first = await supervisor.start();
    log(`server pid ${first.pid} listening at ${url} after ${first.startMs} ms`);
    const runId = `chaos${options.seed}`;
    const chatters: Chatter[] = Array.from({ length: options.customers }, (_, c) => ({
      psid: `73${String(options.seed % 1_000).padStart(3, '0')}${String(c).padStart(11, '0')}`,
      words: chatterWords(c, options.eventsEach),
      acked: [],
    }));
    const buyers: Buyer[] = Array.from({ length: options.buyers }, (_, b) => ({
      psid: `74${String(options.seed % 1_000).padStart(3, '0')}${String(b).padStart(11, '0')}`,
      confirmed: false,
      completed: false,
    }));
    const events = options.customers * options.eventsEach + options.buyers * 9;
    const loadMs = (events / options.ratePerSecond) * 1_000;

    const loadStart = performance.now();
    let loading = true;
    const load = startLoad({ url, chatters, buyers, ratePerSecond: options.ratePerSecond, productId, buyerSpreadMs: loadMs * 0.7, random, runId, signal: stop.signal });
    const finished = load.done.finally(() => {
      loading = false;
    });
    const kills: KillRecord[] = [];
    const [from, to] = options.killWindow;
    for (let k = 0; k < options.kills; k++) {
      // A random point of this kill's slot of the load, counted in events acknowledged.
      const threshold = events * (from + ((to - from) * (k + random())) / options.kills);
      while (loading && load.stats.acked < threshold) await sleep(20);
      // The server has been up a moment at least: it is working, not starting.
      await sleep(200 + random() * 300);
      const atMs = Math.round(performance.now() - loadStart);
      const duringLoad = loading;
      const pid = supervisor.pid;
      const at = Date.now();
      await supervisor.kill();
      // Down for a random moment (the load keeps posting into refused connections), then back.
      await sleep(random() * 500);
      const restart = await supervisor.start();
      kills.push({ atMs, at, duringLoad, restart });
      log(
        `kill ${k + 1}: SIGKILL pid ${pid} at ${(atMs / 1_000).toFixed(1)} s, ${load.stats.acked} of ${events} events acknowledged${duringLoad ? '' : ' (after the load)'}; ` +
          `restarted as pid ${restart.pid} in ${restart.startMs} ms with ${restart.queued} events and ${restart.outbox} effects waiting`,
      );
    }
    const stats = await finished;
    log(`load done after ${((performance.now() - loadStart) / 1_000).toFixed(1)} s: ${stats.acked} events acknowledged`);

    const killedAt = kills.map((kill) => kill.at);
    const outcome = await checkOutcome({ url, graph, crm, chatters, buyers, killedAt, maxInFlight: options.maxInFlight, log });
    await probeConversations({ url, graph, chatters, buyers, outcome, runId });
    const code = await supervisor.stop();

    const problems = [...outcome.problems];
    if (code !== 0) problems.push(`the last server exited with ${code} on SIGTERM, not 0`);
    if (stats.gaveUp > 0) problems.push(`${stats.gaveUp} events were never answered 200 within 90 s`);
    const statuses = Object.entries(stats.statuses);
    if (statuses.length > 0) problems.push(`webhooks answered other than 200: ${statuses.map(([status, count]) => `${count} × ${status}`).join(', ')}`);
    if (kills.filter((kill) => kill.duringLoad).length < kills.length) problems.push('some kills came after the load ended: the run proves less than it says');
    if (leaks.length > 0) problems.push(`${leaks.length} log lines hold a secret, e.g. ${leaks[0]}`);
    return {
      options,
      first,
      kills,
      load: stats,
      outcome,
      logLines,
      leaks,
      stderr,
      seconds: (performance.now() - began) / 1_000,
      problems,
    };
  } finally {
    stop.abort();
    await supervisor.kill();
    await graph.close();
    await crm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
