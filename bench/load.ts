import autocannon from 'autocannon';
import { Pool } from 'undici';
import { clockMs } from './clock.js';
import type { EventSource } from './webhooks.js';

/** What one load phase did, as the load generator saw it. */
export interface LoadResult {
  /** Requests written (each one event). */
  readonly sent: number;
  /** Answered 2xx. */
  readonly acked: number;
  /** Answered, but not 2xx. */
  readonly refused: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /** When the first request was written and the last 2xx arrived (`clockMs`). */
  readonly firstSendAt: number;
  readonly lastAckAt: number;
  /** The acknowledgement latency of every 2xx, ms. */
  readonly ackLatencies: readonly number[];
  /** Per customer (the recipient id a reply carries), when each of its events was sent, in order. */
  readonly sends: ReadonlyMap<string, readonly number[]>;
  /** Events signed during the load because the prebuilt ones ran out. */
  readonly builtLate: number;
}

interface Target {
  /** The server's origin, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The webhook's path. */
  readonly path: string;
  readonly connections: number;
  readonly source: EventSource;
}

/** Keeps what a load phase needs for the figures. */
class Recorder {
  sent = 0;
  acked = 0;
  refused = 0;
  errors = 0;
  firstSendAt = Number.NaN;
  lastAckAt = Number.NaN;
  readonly ackLatencies: number[] = [];
  readonly sends = new Map<string, number[]>();

  wrote(customer: string, at = clockMs()): void {
    if (this.sent++ === 0) this.firstSendAt = at;
    const list = this.sends.get(customer);
    if (list) list.push(at);
    else this.sends.set(customer, [at]);
  }

  answered(status: number, latencyMs: number): void {
    if (status >= 200 && status < 300) {
      this.acked++;
      this.lastAckAt = clockMs();
      this.ackLatencies.push(latencyMs);
    } else {
      this.refused++;
    }
  }

  result(source: EventSource): LoadResult {
    const { sent, acked, refused, errors, firstSendAt, lastAckAt, ackLatencies, sends } = this;
    return { sent, acked, refused, errors, firstSendAt, lastAckAt, ackLatencies, sends, builtLate: source.builtLate };
  }
}

/** How long a closed loop waits for any answer before it gives up on the server, ms. */
const stallMs = 30_000;

/** The two fields of autocannon's client that end it after its current request (not typed). */
interface EndableClient {
  reqsMade: number;
  responseMax?: number;
}

function isEndable(client: unknown): client is EndableClient {
  return typeof client === 'object' && client !== null && typeof (client as { reqsMade?: unknown }).reqsMade === 'number';
}

/**
 * Closed-loop load with autocannon: `connections` keep-alive connections, each posting the
 * next event as soon as the previous one is answered. With `durationMs` it ends gracefully:
 * at the deadline every connection stops after its request in flight is answered, so each
 * event written is also answered (an abrupt stop would leave some in the air, stored or not).
 * With `amount` it posts exactly that many.
 * @example
 * const result = await closedLoop({ url, path: '/webhooks/messenger', connections: 50, source, durationMs: 10_000 });
 */
export function closedLoop(target: Target & ({ durationMs: number } | { amount: number })): Promise<LoadResult> {
  const recorder = new Recorder();
  const clients: EndableClient[] = [];
  const amount = 'amount' in target ? Math.max(target.amount, target.connections) : undefined;
  let ending: NodeJS.Timeout | undefined;
  let stalled = false;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections: target.connections,
        // The graceful end below comes first; autocannon's own duration is only a backstop.
        duration: 'durationMs' in target ? Math.ceil(target.durationMs / 1_000) + 120 : 600,
        ...(amount === undefined ? {} : { amount }),
        timeout: 30,
        sampleInt: 100,
        requests: [
          {
            method: 'POST',
            path: target.path,
            setupRequest: (request) => {
              const event = target.source.next();
              recorder.wrote(event.customer);
              return { ...request, body: event.body, headers: event.headers };
            },
          },
        ],
        setupClient: (client) => {
          if (isEndable(client)) clients.push(client);
          client.on('response', (status: number, _bytes: number, latencyMs: number) => recorder.answered(status, latencyMs));
        },
      },
      (error) => {
        clearTimeout(ending);
        clearInterval(watchdog);
        if (stalled) reject(new Error(`the server answered nothing for ${stallMs / 1_000} s (${recorder.acked} of ${recorder.sent} acknowledged): is it processing?`));
        else if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(recorder.result(target.source));
      },
    );
    instance.on('reqError', () => recorder.errors++);
    // A server that stopped answering (a failing store, a stuck engine) ends the row with an
    // error instead of holding the bench until autocannon's backstop.
    let lastAcked = -1;
    let lastProgressAt = performance.now();
    const watchdog = setInterval(() => {
      if (recorder.acked !== lastAcked) {
        lastAcked = recorder.acked;
        lastProgressAt = performance.now();
      } else if (performance.now() - lastProgressAt > stallMs) {
        stalled = true;
        instance.stop();
      }
    }, 1_000);
    if ('durationMs' in target) {
      ending = setTimeout(() => {
        if (clients.length < target.connections) return instance.stop();
        for (const client of clients) client.responseMax = Math.max(1, client.reqsMade);
      }, target.durationMs);
    }
  });
}

/**
 * Open-loop load at a fixed rate: events are posted evenly spaced, `rate` a second for
 * `durationMs`, whatever the answers (over an undici `Pool` of `connections`), so the
 * latencies are those of that rate and not of bursts. autocannon's own `overallRate` lets
 * each connection post its share of a second back to back at the start of that second.
 * @example
 * const result = await paced({ url, path: '/webhooks/messenger', connections: 50, source, rate: 1_000, durationMs: 10_000 });
 */
export async function paced(target: Target & { rate: number; durationMs: number }): Promise<LoadResult> {
  const recorder = new Recorder();
  const pool = new Pool(target.url, { connections: target.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const total = Math.round((target.rate * target.durationMs) / 1_000);
  const inFlight = new Set<Promise<void>>();
  const post = () => {
    const event = target.source.next();
    const at = clockMs();
    recorder.wrote(event.customer, at);
    const done = pool
      .request({ method: 'POST', path: target.path, headers: event.headers, body: event.body })
      .then(async (response) => {
        await response.body.dump();
        recorder.answered(response.statusCode, clockMs() - at);
      })
      .catch(() => void recorder.errors++)
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const start = clockMs();
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((clockMs() - start) * target.rate) / 1_000) + 1);
      for (; issued < due; issued++) post();
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  await pool.close();
  return recorder.result(target.source);
}
