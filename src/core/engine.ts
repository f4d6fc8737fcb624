import type { Channel } from './channel.js';
import { Dispatcher } from './dispatcher.js';
import type { Engine, EngineObserver, EngineOptions, IngestOptions, IngestResult } from './engine-types.js';
import { EngineError } from './errors.js';
import type { DispatchedEffect } from './effects.js';
import { inboundEventSchema, type InboundEvent, type InboundEventInput } from './events.js';
import { conversationKey, keyKind, type Address } from './ids.js';
import { silentLogger } from './logger.js';
import { Batcher } from './batcher.js';
import { ClusterSync } from './cluster-sync.js';
import { Router } from './plan.js';
import { Processor } from './processor.js';
import { HistoryPruner } from './retention.js';
import { compileFlow } from './runtime.js';
import { Scheduler } from './scheduler.js';
import type { InboxItem } from './store.js';

const recoveryPage = 1_000;
const defaultMaxAttempts = 12;
const instanceIdPattern = /^[\w.-]{1,64}$/;

/**
 * Creates an engine: events in through `ingest`, flows stepped one event at a time per
 * actor, effects committed with the snapshot and sent from the outbox.
 * @example
 * const engine = createEngine({ store: createMemoryStore(), flows: shopFlows, services, channels: [web] });
 * await engine.start();
 * await engine.ingest([{ type: 'text', id: 'm1', key: 'conv:web:shop:u1', at: Date.now(), address, text: 'hi' }]);
 */
export function createEngine<S>(options: EngineOptions<S>): Engine {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const observer: EngineObserver = options.observer ?? {};
  const clock = options.clock ?? Date.now;
  const router = new Router(options.flows.map((flow) => compileFlow(flow, options.services)));
  const instanceId = options.instanceId ?? crypto.randomUUID().slice(0, 8);
  if (!instanceIdPattern.test(instanceId)) throw new EngineError('CONFIG', 'an instance id is 1-64 letters, digits, _, . and -');
  // Several instances on one store coordinate through leases; a store one process owns needs none.
  const lease = store.shared ? { owner: instanceId, ms: Math.max(100, options.leaseMs ?? 15_000) } : undefined;
  const channels = new Map<string, Channel>((options.channels ?? []).map((channel) => [channel.name, channel]));

  // When each customer last wrote, for channels with a messaging window; the store has
  // the rest (a customer not seen since start), and this keeps the hot ones in memory.
  const lastInbound = new Map<string, number>();
  const seen = (key: string, at: number) => {
    lastInbound.delete(key);
    lastInbound.set(key, at);
    if (lastInbound.size > 50_000) lastInbound.delete(lastInbound.keys().next().value!);
  };
  const lastInboundAt = async (to: Address): Promise<number | undefined> => {
    const key = conversationKey(to);
    const known = lastInbound.get(key);
    if (known !== undefined) return known;
    const at = (await store.findCustomer(to))?.lastInboundAt;
    if (at !== undefined && !lastInbound.has(key)) seen(key, at);
    return at;
  };

  // Backpressure: acknowledging faster than the engine can answer only grows a backlog in
  // memory and the time to a reply. Past `maxBacklog` events and effects in hand, ingest
  // waits (the webhook's 200 with it), first come first served, one caller let in for each
  // slot that drains: the platform then slows down or retries, and the database keeps
  // everything already stored. A caller let in holds its slot (`entering`) until its
  // events are queued, so a burst of wakes cannot overshoot the bound.
  const maxBacklog = options.maxBacklog ?? 128;
  const congested: (() => void)[] = [];
  let entering = 0;
  const backlog = () => processor.queued + dispatcher.pending + entering;
  const relieve = () => {
    while (congested.length > 0 && backlog() < maxBacklog) {
      entering++;
      congested.shift()!();
    }
  };
  /** Waits for a slot in the backlog; answers once the caller holds one (release it with `leave`). */
  const enter = async (): Promise<void> => {
    if (started && (congested.length > 0 || backlog() >= maxBacklog)) {
      await new Promise<void>((resolve) => congested.push(resolve));
      return;
    }
    entering++;
  };
  const leave = () => {
    entering--;
    relieve();
  };

  const dispatcher = new Dispatcher({
    store,
    channels,
    handlers: options.handlers ?? {},
    logger,
    observer,
    clock,
    lastInboundAt,
    maxInFlight: options.maxInFlight ?? 64,
    maxAttempts: (type) =>
      typeof options.maxAttempts === 'number' ? options.maxAttempts : (options.maxAttempts?.[type] ?? defaultMaxAttempts),
    baseBackoffMs: options.baseBackoffMs ?? 500,
    maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
    progressed: () => relieve(),
    ...(lease ? { lease } : {}),
  });
  const processor = new Processor({
    store,
    router,
    logger,
    observer,
    clock,
    seen,
    ...(lease ? { lease } : {}),
    committed: (outbox, earliestTask) => {
      if (outbox.length > 0) dispatcher.enqueue(outbox);
      relieve();
      if (earliestTask !== null) void scheduler.wake(earliestTask);
    },
  });
  const scheduler: Scheduler = new Scheduler(store, (items) => processor.enqueue(items), clock, logger);
  const pruner = options.retention ? new HistoryPruner(store, logger, clock, options.retention) : undefined;
  const sync = lease
    ? new ClusterSync({ store, owner: lease.owner, leaseMs: lease.ms, processor, dispatcher, scheduler, logger, pollMs: Math.max(50, options.pollMs ?? 3_000) })
    : undefined;

  let started = false;
  let stopping = false;
  // One append per tick for every webhook in it; each caller finds its own events by id.
  const appender = new Batcher<InboundEvent, Map<string, InboxItem>>(
    async (events) => new Map((await store.append(events)).map((item) => [item.event.id, item])),
  );

  async function ingest(
    given: readonly InboundEventInput[],
    { wait = false, invalid = 'reject' }: IngestOptions = {},
  ): Promise<IngestResult> {
    if (stopping) throw new EngineError('SHUTTING_DOWN', 'the engine is shutting down');
    let inputs = given;
    const events: InboundEvent[] = [];
    let skipped = 0;
    given.forEach((input, index) => {
      const parsed = inboundEventSchema.safeParse(input);
      const event = parsed.success ? router.route(parsed.data) : undefined;
      const problem = !parsed.success
        ? `event ${[index, ...(parsed.error.issues[0]?.path ?? [])].join('.')}: ${parsed.error.issues[0]?.message ?? 'invalid'}`
        : !router.serves(event!.key)
          ? `event ${index}.key: no flow serves actor kind "${keyKind(event!.key)}"`
          : undefined;
      if (problem === undefined) {
        events.push(event!, ...router.fanOut(event!));
        return;
      }
      if (invalid === 'reject') throw new EngineError('BAD_REQUEST', problem);
      skipped++;
      logger.warn({ problem }, 'skipped an event that is not valid');
    });
    if (skipped > 0) inputs = given.filter((input) => events.some((event) => event.id === input.id));
    if (events.length === 0) return { accepted: 0, duplicates: 0, ...(skipped > 0 ? { skipped } : {}) };
    await enter();
    let outcomes: Promise<('done' | 'failed')[]> | undefined;
    let counts: IngestResult;
    try {
      const stored = await appender.add(events);
      const fresh: InboxItem[] = [];
      for (const event of events) {
        const item = stored.get(event.id);
        if (item) fresh.push(item);
      }
      // Counted over what the caller sent, not the copies for subscribed flows.
      let accepted = 0;
      for (const input of inputs) if (stored.has(input.id)) accepted++;
      observer.ingested?.(accepted, inputs.length - accepted);
      counts = { accepted, duplicates: inputs.length - accepted, ...(skipped > 0 ? { skipped } : {}) };
      if (!started) return counts;
      if (wait) outcomes = Promise.all(fresh.map((item) => processor.settled(item.seq)));
      processor.enqueue(fresh);
    } finally {
      leave();
    }
    if (!outcomes) return counts;
    const failed = (await outcomes).filter((outcome) => outcome === 'failed').length;
    return { ...counts, failed };
  }

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    stopping = false;
    if (sync) {
      await sync.start();
      scheduler.start();
      pruner?.start();
      logger.info({ instanceId, queued: processor.queued, outbox: dispatcher.pending }, 'engine started (shared store)');
      return;
    }
    for (let after = 0; ; ) {
      const items = await store.pending(after, recoveryPage);
      processor.enqueue(items);
      if (items.length < recoveryPage) break;
      after = items[items.length - 1]!.seq;
    }
    for (let after = 0; ; ) {
      const items = await store.pendingOutbox(after, recoveryPage);
      dispatcher.enqueue(items);
      if (items.length < recoveryPage) break;
      after = items[items.length - 1]!.id;
    }
    scheduler.start();
    pruner?.start();
    logger.info({ queued: processor.queued, outbox: dispatcher.pending }, 'engine started');
  }

  async function stop({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (stopping) return;
    stopping = true;
    sync?.stop();
    scheduler.stop();
    await pruner?.stop();
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
    const drained = await Promise.race([
      processor.drained().then(() => dispatcher.settled(false)).then(() => 'drained' as const),
      deadline,
    ]);
    dispatcher.stop();
    await Promise.race([dispatcher.settled(false), deadline]);
    // What is left goes to the other instances now rather than when the leases expire.
    if (lease) await store.releaseLeases(lease.owner).catch((error: unknown) => logger.warn({ err: String(error) }, 'could not release leases'));
    started = false;
    logger.info({ drained: drained === 'drained', queued: processor.queued, outbox: dispatcher.pending }, 'engine stopped');
  }

  async function idle(): Promise<void> {
    for (;;) {
      await processor.drained();
      await dispatcher.settled(true);
      if (processor.queued === 0 && dispatcher.pending === 0) return;
    }
  }

  async function retryFailed(type: DispatchedEffect['type']): Promise<number> {
    let count = 0;
    for (;;) {
      const items = await store.requeueFailed(type, clock(), recoveryPage);
      dispatcher.enqueue(items);
      count += items.length;
      if (items.length < recoveryPage) return count;
    }
  }

  return {
    store,
    instanceId,
    ingest,
    retryFailed,
    start,
    stop,
    idle,
    tasksChanged: () => scheduler.wake(),
    pruneHistory: () => pruner?.prune() ?? Promise.resolve(0),
    unhealthyChannels: () => dispatcher.unhealthyChannels(),
  };
}
