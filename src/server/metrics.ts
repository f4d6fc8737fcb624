import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { DispatchedEffect } from '../core/effects.js';
import type { EngineObserver } from '../core/engine-types.js';
import type { InboundEvent } from '../core/events.js';

type ProcessOutcome = Parameters<NonNullable<EngineObserver['processed']>>[2];
type DispatchOutcome = Parameters<NonNullable<EngineObserver['dispatched']>>[1];
type Child = { inc(value?: number): void };

/** The app's metrics: its own registry (never the global one) and the engine's observer feeding it. */
export interface Metrics {
  readonly registry: Registry;
  readonly observer: EngineObserver;
  /** Counts webhook entries a channel acknowledged without understanding (`ChannelDeps.ignored`). */
  ignored(channel: string, count: number): void;
  /** The Prometheus text exposition, and the content type to answer it with. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** How `createMetrics` builds the registry. */
export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, GC). On by default. */
  readonly defaultMetrics?: boolean;
  /** Labels on every series (an instance name). */
  readonly labels?: Record<string, string>;
}

/**
 * Creates a registry with the process metrics and the engine's counters, and the observer
 * that feeds them. Several apps in one process each get their own registry.
 * @example
 * const metrics = createMetrics();
 * const engine = createEngine({ store, flows, services, observer: metrics.observer });
 * const { contentType, body } = await metrics.render();
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const ingested = new Counter({ name: 'orderly_events_ingested_total', help: 'Inbound events stored in the inbox.', registers });
  const duplicates = new Counter({
    name: 'orderly_events_duplicate_total',
    help: 'Inbound events acknowledged but not stored again (their id was stored before).',
    registers,
  });
  const processed = new Counter({
    name: 'orderly_events_processed_total',
    help: 'Inbound events run through their flow, by event type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const processing = new Histogram({
    name: 'orderly_processing_seconds',
    help: 'Time to process one event: load the snapshot, step the flow, commit.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const dispatched = new Counter({
    name: 'orderly_effects_dispatched_total',
    help: 'Outbox effects dispatched, by effect type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const dispatching = new Histogram({
    name: 'orderly_dispatch_seconds',
    help: 'Time to dispatch one outbox effect (a send to a platform, a CRM call).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  // Visible at 0 from the start, so an alert on it works before the first dead notification.
  const crmDead = new Counter({
    name: 'orderly_crm_notifications_dead_total',
    help: 'New-order notifications the CRM never accepted within CRM_MAX_ATTEMPTS (retry them with the retryNotifications method).',
    registers,
  });

  const ignored = new Counter({
    name: 'orderly_webhook_entries_ignored_total',
    help: 'Webhook entries of kinds a channel does not handle: acknowledged and dropped.',
    labelNames: ['channel'] as const,
    registers,
  });

  // Label children are looked up once per (type, outcome) pair and kept: no label
  // objects or strings are built per event on the hot path.
  const processedChildren = new Map<string, Map<string, Child>>();
  const dispatchedChildren = new Map<string, Map<string, Child>>();
  const child = (cache: Map<string, Map<string, Child>>, counter: Counter<'type' | 'outcome'>, type: string, outcome: string) => {
    let byOutcome = cache.get(type);
    if (!byOutcome) cache.set(type, (byOutcome = new Map()));
    let found = byOutcome.get(outcome);
    if (!found) byOutcome.set(outcome, (found = counter.labels(type, outcome)));
    return found;
  };

  const observer: EngineObserver = {
    ingested(accepted: number, duplicateCount: number) {
      if (accepted > 0) ingested.inc(accepted);
      if (duplicateCount > 0) duplicates.inc(duplicateCount);
    },
    processed(event: InboundEvent, seconds: number, outcome: ProcessOutcome) {
      child(processedChildren, processed, event.type, outcome).inc();
      processing.observe(seconds);
    },
    dispatched(type: DispatchedEffect['type'], outcome: DispatchOutcome, seconds: number) {
      child(dispatchedChildren, dispatched, type, outcome).inc();
      if (type === 'notify_crm' && outcome === 'dead') crmDead.inc();
      dispatching.observe(seconds);
    },
  };

  return {
    registry,
    observer,
    ignored(channel: string, count: number) {
      if (count > 0) ignored.labels(channel).inc(count);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
