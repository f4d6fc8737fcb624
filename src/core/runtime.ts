import { createActor, type AnyStateMachine, type Snapshot } from 'xstate';
import { effectSchema, type Effect } from './effects.js';
import { EngineError } from './errors.js';
import type { InboundEvent } from './events.js';
import type { FlowDefinition, FlowInput } from './flow.js';
import { PureStepper } from './pure-step.js';
import type { SnapshotEnvelope } from './store.js';

/** A flow with its machine built for one engine's services. */
export interface CompiledFlow {
  readonly definition: FlowDefinition<never>;
  readonly machine: AnyStateMachine;
  /** Steps the machine without an actor when a step is pure (see `PureStepper`). */
  readonly stepper: PureStepper;
  /** The notice of a restarted actor, bound to the engine's services. */
  readonly restartNotice?: (event: InboundEvent) => Effect[];
}

/** Builds a flow's machine once, with the services it reads. */
export function compileFlow<S>(definition: FlowDefinition<S>, services: S): CompiledFlow {
  const { restartNotice } = definition;
  const machine = definition.machine(services);
  return {
    definition: definition as FlowDefinition<never>,
    machine,
    stepper: new PureStepper(machine),
    ...(restartNotice ? { restartNotice: (event: InboundEvent) => restartNotice(event, services) } : {}),
  };
}

export interface StepResult {
  readonly envelope: Omit<SnapshotEnvelope, 'rev'>;
  readonly effects: Effect[];
  /** Set when the stored snapshot could not be used as it was. */
  readonly recovered?: 'migrated' | 'restarted';
  /** XState's state value, for logs and the test kit. */
  readonly value: unknown;
}

const effectTypes = new Set<string>(effectSchema.options.map((option) => option.shape.type.value));

/**
 * One step of an actor: hydrate the machine from its stored snapshot, send the event,
 * collect what the machine emits, answer the new persisted snapshot. Pure with respect to
 * the outside world: nothing here does I/O.
 *
 * A snapshot of another flow version is migrated when the flow has `migrate`, otherwise
 * the actor restarts at its initial state and the flow's `restartNotice` is emitted first.
 * A snapshot the machine cannot restore is restarted the same way. A machine that throws
 * while handling the event raises `EngineError('FLOW')`, and nothing of that step is kept.
 */
export function step(flow: CompiledFlow, stored: SnapshotEnvelope | null, event: InboundEvent): StepResult {
  const { definition } = flow;
  const input: FlowInput = { key: event.key, ...(event.address ? { address: event.address } : {}) };
  let snapshot: unknown = undefined;
  let recovered: StepResult['recovered'];

  if (stored) {
    if (stored.flowId === definition.id && stored.flowVersion === definition.version) {
      snapshot = stored.snapshot;
    } else if (stored.flowId === definition.id && definition.migrate) {
      const migrated = safely(() => definition.migrate!(stored.snapshot, stored.flowVersion));
      snapshot = migrated ?? undefined;
      recovered = migrated == null ? 'restarted' : 'migrated';
    } else {
      recovered = 'restarted';
    }
    if (isFinished(snapshot)) snapshot = undefined;
  }

  let outcome = run(flow, snapshot, input, event);
  if (outcome === 'unusable') {
    recovered = 'restarted';
    outcome = run(flow, undefined, input, event);
  }
  if (outcome === 'unusable') {
    throw new EngineError('FLOW', `flow ${definition.id} could not start`);
  }
  if (outcome.error !== undefined) {
    throw new EngineError('FLOW', `flow ${definition.id} failed on ${event.type}`, { cause: outcome.error });
  }
  const effects =
    recovered === 'restarted' && flow.restartNotice
      ? [...flow.restartNotice(event), ...outcome.effects]
      : outcome.effects;
  return {
    envelope: { flowId: definition.id, flowVersion: definition.version, snapshot: outcome.persisted },
    effects,
    value: outcome.value,
    ...(recovered ? { recovered } : {}),
  };
}

interface Outcome {
  persisted: unknown;
  effects: Effect[];
  value: unknown;
  error?: unknown;
}

/** The step without an actor when it is pure, otherwise in a short-lived actor. */
function run(flow: CompiledFlow, snapshot: unknown, input: FlowInput, event: InboundEvent): Outcome | 'unusable' {
  const pure = flow.stepper.step(snapshot, input, event);
  if (pure && pure.effects.every((effect) => effectTypes.has(effect.type))) return pure;
  return runActor(flow, snapshot, input, event);
}

function runActor(flow: CompiledFlow, snapshot: unknown, input: FlowInput, event: InboundEvent): Outcome | 'unusable' {
  const effects: Effect[] = [];
  let error: unknown;
  let actor;
  try {
    actor = createActor(flow.machine, {
      input,
      ...(snapshot === undefined ? {} : { snapshot: snapshot as Snapshot<unknown> }),
    });
  } catch {
    return 'unusable';
  }
  actor.on('*', (emitted: { type: string }) => {
    if (!effectTypes.has(emitted.type)) {
      error ??= new TypeError(`flow ${flow.definition.id} emitted "${emitted.type}", which is not an effect`);
      return;
    }
    effects.push(emitted as Effect);
  });
  actor.subscribe({ error: (caught) => void (error ??= caught) });
  try {
    actor.start();
    if (snapshot !== undefined && actor.getSnapshot().status === 'error') {
      actor.stop();
      return 'unusable';
    }
    actor.send(event);
  } catch (caught) {
    error ??= caught;
  }
  const current = actor.getSnapshot();
  if (current.status === 'error') error ??= current.error;
  const persisted = error === undefined ? actor.getPersistedSnapshot() : undefined;
  actor.stop();
  return { persisted, effects, value: current.value, error };
}

function isFinished(snapshot: unknown): boolean {
  const status = (snapshot as { status?: unknown } | undefined)?.status;
  return status === 'done' || status === 'error' || status === 'stopped';
}

function safely<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
