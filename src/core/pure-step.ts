import { createActor, type AnyActorScope, type AnyStateMachine } from 'xstate';
import type { Effect } from './effects.js';
import type { InboundEvent } from './events.js';
import type { FlowInput } from './flow.js';
import type { ActorKey } from './ids.js';

/** What one step of a machine answered: the snapshot to store, what it emitted, its state value. */
export interface PureOutcome {
  readonly persisted: unknown;
  readonly effects: Effect[];
  readonly value: unknown;
}

/**
 * One step of a machine through its logic (`getInitialSnapshot` or `restoreSnapshot`, then
 * `transition`), without an actor. A short-lived actor per event builds an actor system, a
 * mailbox, observers and bound functions, and stops them again: about a third of a step's
 * time for a flow like the shop's. The logic's methods are the `ActorLogic` interface XState
 * itself drives an actor with; this calls them with one scope kept per machine.
 *
 * The answer is taken only when the step was pure: its actions were `emit`s and undelayed
 * `raise`s (assign and enqueueActions resolve without executing), nothing threw, no child
 * actor exists afterwards, and the machine is still active. Anything else answers `null`,
 * and the caller runs the same step in a real actor, which is always right; nothing of the
 * attempt is kept, since the logic executes nothing on its own. A machine that keeps needing
 * the actor (custom action functions, `sendTo`, delays, invoked or spawned children) stops
 * being tried here after a few dozen steps.
 *
 * One difference remains, for guards and assigners that read `self`: here `self` is the
 * machine's scope actor, which never runs, not an actor holding the current snapshot.
 */
export class PureStepper {
  #scope: AnyActorScope | undefined;
  /** The step in progress: what its machine emitted, and whether it stayed pure. */
  #effects: Effect[] = [];
  #pure = true;
  #taken = 0;
  #refused = 0;

  constructor(private readonly machine: AnyStateMachine) {}

  /** Answers the step's outcome, or `null` when the step needs a real actor. */
  step(snapshot: unknown, input: FlowInput, event: InboundEvent): PureOutcome | null {
    if (this.#refused > 32 && this.#refused > this.#taken) return null;
    const effects: Effect[] = [];
    this.#effects = effects;
    this.#pure = true;
    let spawned = false;
    try {
      const scope = this.#scopeOf();
      const { machine } = this;
      const start = snapshot === undefined ? machine.getInitialSnapshot(scope, input) : machine.restoreSnapshot!(snapshot as never, scope);
      if (start.status === 'active' && this.#pure) {
        const next = machine.transition(start, event, scope);
        spawned = !isEmpty(next.children);
        if (next.status === 'active' && this.#pure && !spawned) {
          this.#taken++;
          return { persisted: machine.getPersistedSnapshot(next), effects, value: next.value };
        }
      }
    } catch {
      // The actor reports the error as it should.
    }
    // Only what needs an actor counts against the machine: a snapshot that does not restore,
    // or a flow that throws, says nothing about its actions.
    if (!this.#pure || spawned) this.#refused++;
    // A spawned child may have registered its system id in the scope's system: start afresh.
    this.#scope = undefined;
    return null;
  }

  #scopeOf(): AnyActorScope {
    if (this.#scope) return this.#scope;
    // Never started: its initial snapshot (an error, if the context wants a real input) is unused.
    const self = createActor(this.machine, { input: { key: 'pure:scope' as ActorKey } satisfies FlowInput });
    this.#scope = {
      self,
      id: self.id,
      sessionId: self.sessionId,
      system: self.system,
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      actionExecutor: (action) => {
        if (action.type === 'xstate.emit') this.#effects.push((action.params as { event: Effect }).event);
        else if (action.type !== 'xstate.raise' || (action.params as { delay?: unknown }).delay !== undefined) this.#pure = false;
      },
    };
    return this.#scope;
  }
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}
