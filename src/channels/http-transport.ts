import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';

/** One request to a path of the transport's origin. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, e.g. `/v21.0/me/messages?access_token=…`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Time to wait for the answer's headers, then for its body. */
  readonly timeoutMs: number;
  /** Gives up on the request (rejects with code `UND_ERR_ABORTED`) when it fires. */
  readonly signal?: AbortSignal;
}

/** What came back. The thread sends `headers` only with an answer outside 2xx (the only one whose headers get read). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Keep-alive HTTP to one origin. */
export interface HttpTransport {
  /** Resolves with any answer, whatever its status; rejects with an `HttpTransportError` when none came. */
  request(request: HttpRequest): Promise<HttpAnswer>;
  /** Lets the requests in flight finish, then frees the connections. */
  close(): Promise<void>;
}

/** No answer came: refused, reset, timed out (`code` is undici's or the system's, e.g. `ECONNREFUSED`). */
export class HttpTransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

/** Where a transport's requests run: on a thread of their own (the default), or on the event loop. */
export type TransportKind = 'thread' | 'inline';

export interface HttpTransportOptions {
  /** At most this many sockets to the origin. */
  readonly connections: number;
  /** `thread` by default. */
  readonly kind?: TransportKind;
  /** How long an idle socket is kept when the server does not say (undici's default, 4 s, otherwise). */
  readonly keepAliveMs?: number;
}

/** What the thread needs to open an origin's pool: sent with every request, read on the first. */
interface PoolSettings {
  readonly connections: number;
  readonly keepAliveTimeout?: number;
}

/**
 * Keep-alive HTTP to `origin`.
 * - `thread`: the sockets, undici's request and answer handling and the body reads run on
 *   one worker thread shared by every such transport of the process; the event loop only
 *   hands requests over and takes the answers back, in batches (one message each way per
 *   turn of either loop). On the bench's Messenger row that gave about a fifth more
 *   events/s: sending was a sixth of the event loop's time, and the loop is what limits.
 * - `inline`: an undici `Pool` on the event loop (no thread, about 18 MB less RSS).
 * @example
 * const http = createHttpTransport('https://graph.facebook.com', { connections: 32 });
 * const answer = await http.request({ method: 'POST', path: '/v21.0/me/messages', headers, body, timeoutMs: 15_000 });
 */
export function createHttpTransport(origin: string, options: HttpTransportOptions): HttpTransport {
  const settings: PoolSettings = {
    connections: options.connections,
    ...(options.keepAliveMs === undefined ? {} : { keepAliveTimeout: options.keepAliveMs }),
  };
  return options.kind === 'inline' ? inlineTransport(origin, settings) : threadTransport(origin, settings);
}

function inlineTransport(origin: string, settings: PoolSettings): HttpTransport {
  const pool = new Pool(origin, { ...settings, pipelining: 1 });
  return {
    async request(request) {
      try {
        const response = await pool.request({
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
      } catch (error) {
        throw transportError(error);
      }
    },
    close: () => pool.close(),
  };
}

function transportError(error: unknown): HttpTransportError {
  // undici rejects an aborted request with the signal's reason, a DOMException.
  if (error instanceof Error && error.name === 'AbortError') return aborted();
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  return new HttpTransportError(error instanceof Error ? error.message : String(error), code);
}

/**
 * The thread: an undici `Pool` per origin. Requests come as a flat batch
 * `[id, origin, poolSettings, request, …]` (a negative id aborts the request `-id`); answers
 * go back as `[id, status, headers, text]` (status 0: no answer, then the third is the
 * error's code and the fourth its message).
 * Plain CommonJS in a string, so it runs the same under tsx and compiled and loads only undici.
 */
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { Pool } = require(workerData.undici);
const pools = new Map();
const aborts = new Map();
let answers = [];
const flush = () => {
  const batch = answers;
  answers = [];
  parentPort.postMessage(batch);
};
const answer = (message) => {
  if (answers.push(message) === 1) setImmediate(flush);
};
const send = async (id, origin, settings, request) => {
  let signal;
  if (request.abortable) {
    const controller = new AbortController();
    aborts.set(id, controller);
    signal = controller.signal;
  }
  try {
    let pool = pools.get(origin);
    if (!pool) pools.set(origin, (pool = new Pool(origin, { ...settings, pipelining: 1 })));
    const response = await pool.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
      signal,
    });
    const text = await response.body.text();
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    answer([id, response.statusCode, ok ? undefined : response.headers, text]);
  } catch (error) {
    const code = error !== null && typeof error === 'object' && error.code !== undefined ? String(error.code) : undefined;
    answer([id, 0, code, error instanceof Error ? error.message : String(error)]);
  } finally {
    if (signal) aborts.delete(id);
  }
};
parentPort.on('message', (batch) => {
  if (batch === 'close') {
    Promise.allSettled([...pools.values()].map((pool) => pool.close())).then(() => parentPort.close());
    return;
  }
  for (let i = 0; i < batch.length; i += 4) {
    if (batch[i] < 0) aborts.get(-batch[i])?.abort();
    else void send(batch[i], batch[i + 1], batch[i + 2], batch[i + 3]);
  }
});
`;

type Answered = [id: number, status: number, headersOrCode: unknown, text: string];

interface Waiter {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: HttpTransportError) => void;
  /** Stops listening to the request's signal, once it is answered. */
  readonly forget?: () => void;
}

/**
 * The worker behind every `thread` transport of the process, counted by its users: the
 * last to close stops it. Should it die (a crash, an out-of-memory), the requests it held
 * fail as transport errors (the outbox retries them) and the next request starts another.
 */
class SharedThread {
  static #current: SharedThread | undefined;

  static acquire(): SharedThread {
    const thread = SharedThread.#current?.alive ? SharedThread.#current : (SharedThread.#current = new SharedThread());
    thread.#users++;
    return thread;
  }

  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiter>();
  readonly #exited: Promise<void>;
  #outgoing: unknown[] = [];
  #nextId = 1;
  #users = 0;
  alive = true;

  private constructor() {
    const undici = createRequire(import.meta.url).resolve('undici');
    // A small young generation: the thread's garbage is short-lived request state.
    this.#worker = new Worker(source, { eval: true, workerData: { undici }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.#worker.unref();
    this.#worker.on('message', (batch: Answered[]) => this.#answered(batch));
    this.#worker.on('error', () => undefined);
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.alive = false;
        if (SharedThread.#current === this) SharedThread.#current = undefined;
        this.#outgoing = [];
        for (const waiter of this.#waiting.values()) {
          waiter.forget?.();
          waiter.reject(new HttpTransportError('the http thread stopped', 'ETHREADEXIT'));
        }
        this.#waiting.clear();
        resolve();
      }),
    );
  }

  send(origin: string, settings: PoolSettings, request: HttpRequest): Promise<HttpAnswer> {
    if (!this.alive) return Promise.reject(new HttpTransportError('the http thread stopped', 'ETHREADEXIT'));
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(aborted());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // A waiting request keeps the process up, as a socket of an inline pool would.
      if (this.#waiting.size === 0) this.#worker.ref();
      if (!signal) {
        this.#waiting.set(id, { resolve, reject });
        this.#queue(id, origin, settings, request);
        return;
      }
      // A signal cannot cross to the thread: an abort does, as a message.
      const abort = () => this.#abort(id);
      signal.addEventListener('abort', abort, { once: true });
      this.#waiting.set(id, { resolve, reject, forget: () => signal.removeEventListener('abort', abort) });
      this.#queue(id, origin, settings, { ...request, signal: undefined, abortable: true });
    });
  }

  #queue(id: number, origin: string, settings: PoolSettings | null, request: unknown): void {
    // The settings are one object per transport: a batch carries each once (structured clone keeps references).
    if (this.#outgoing.push(id, origin, settings, request) === 4) setImmediate(() => this.#flush());
  }

  #abort(id: number): void {
    const waiter = this.#waiting.get(id);
    if (!waiter) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
    waiter.reject(aborted());
    this.#queue(-id, '', null, null);
  }

  #flush(): void {
    const batch = this.#outgoing;
    this.#outgoing = [];
    if (batch.length > 0 && this.alive) this.#worker.postMessage(batch);
  }

  #answered(batch: Answered[]): void {
    for (const [id, status, extra, text] of batch) {
      const waiter = this.#waiting.get(id);
      if (!waiter) continue;
      this.#waiting.delete(id);
      waiter.forget?.();
      if (status === 0) waiter.reject(new HttpTransportError(text, extra as string | undefined));
      else waiter.resolve({ status, headers: (extra as HttpAnswer['headers'] | undefined) ?? {}, text });
    }
    if (this.#waiting.size === 0) this.#worker.unref();
  }

  /** Ends the current thread at once, as a crash would. */
  static async terminate(): Promise<void> {
    const thread = SharedThread.#current;
    if (!thread) return;
    await thread.#worker.terminate();
    await thread.#exited;
  }

  /** One user less; the last one stops the thread and resolves once it has exited. */
  async release(): Promise<void> {
    if (--this.#users > 0 || !this.alive) return;
    if (SharedThread.#current === this) SharedThread.#current = undefined;
    this.#worker.postMessage('close');
    const timer = setTimeout(() => void this.#worker.terminate(), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/**
 * Ends the shared HTTP thread at once, as a crash would: the requests it held reject with
 * code `ETHREADEXIT`, and the next request of any transport starts another thread. For
 * tests of that recovery.
 * @example
 * await terminateHttpThread();
 */
export function terminateHttpThread(): Promise<void> {
  return SharedThread.terminate();
}

function aborted(): HttpTransportError {
  return new HttpTransportError('the request was aborted', 'UND_ERR_ABORTED');
}

function threadTransport(origin: string, settings: PoolSettings): HttpTransport {
  let thread = SharedThread.acquire();
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let closed: Promise<void> | undefined;
  return {
    async request(request) {
      if (closed) throw new HttpTransportError('the http transport is closed', 'ECLOSED');
      if (!thread.alive) thread = SharedThread.acquire();
      inFlight++;
      try {
        return await thread.send(origin, settings, request);
      } finally {
        if (--inFlight === 0) drained?.();
      }
    },
    close() {
      closed ??= (async () => {
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await thread.release();
      })();
      return closed;
    },
  };
}
