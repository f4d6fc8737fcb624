import { getShortestPaths } from '@xstate/graph';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import type { Choice, OutboundMessage } from '../core/outbound.js';
import { allStates, machineGraph } from './flow-graph.js';

/** What a traversal step knows: the snapshot, and the choices the shop just offered in it. */
interface Visit {
  readonly snapshot: AnyMachineSnapshot;
  readonly choices: readonly Choice[];
}

/** How `checkReachability` starts the machine and what it sends it. */
export interface ReachabilityOptions {
  /** The machine's input (a flow's `FlowInput`). */
  readonly input: unknown;
  /**
   * The events to try in a state: typically sample texts and commands, plus the payloads of
   * the `choices` the shop just offered. Only those the state accepts (`snapshot.can`) are sent.
   */
  readonly events: (choices: readonly Choice[], snapshot: AnyMachineSnapshot) => readonly EventObject[];
  /** How many transitions to explore before giving up; 200,000 by default. */
  readonly limit?: number;
}

/** One state node, and how it was reached. */
export interface StateReach {
  /** The state's path (`checkout.address`). */
  readonly path: string;
  /** The shortest event sequence found that reaches it; absent when it was not reached. */
  readonly steps?: readonly string[];
  /** A transient state (left at once by `always`): reached when the machine passes through it. */
  readonly transient?: boolean;
}

/** Every state node of a machine, reached or not. */
export interface Reachability {
  readonly states: readonly StateReach[];
  /** Problems met on the way: an event a state threw on, a traversal cut at its limit. */
  readonly problems: readonly string[];
}

/**
 * `getShortestPaths` over our own logic, whose state is a `Visit` (a snapshot with the
 * choices just offered) rather than an XState snapshot: typed here once.
 */
const shortestPaths = getShortestPaths as unknown as (
  logic: unknown,
  options: {
    fromState: Visit;
    limit: number;
    serializeState: (visit: Visit) => string;
    events: (visit: Visit) => readonly EventObject[];
  },
) => { state: Visit; steps: { event: EventObject }[] }[];

/** The choices offered by what a step emitted (replies' buttons, quick replies). */
function choicesOf(actions: readonly { type: string; params?: unknown }[]): Choice[] {
  const choices: Choice[] = [];
  for (const action of actions) {
    if (action.type !== 'xstate.emit') continue;
    const emitted = (action.params as { event?: { type?: string; message?: OutboundMessage } } | undefined)?.event;
    const message = emitted?.type === 'reply' ? emitted.message : undefined;
    if (!message) continue;
    const buttons =
      message.kind === 'text'
        ? [...(message.buttons ?? []), ...(message.quickReplies ?? [])]
        : message.kind === 'products'
          ? [...message.products.flatMap((product) => product.buttons), ...(message.quickReplies ?? [])]
          : [];
    for (const button of buttons) if ('payload' in button) choices.push(button);
  }
  return choices;
}

/**
 * A coarse signature of a context: what guards usually look at (which keys are set, how many
 * items a list has: none, one, several), not every value. It keeps the traversal finite
 * while still telling "empty cart" from "something in the cart".
 */
export function contextShape(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return '_';
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'object') return typeof value === 'number' ? 'n' : 's';
  if (depth > 3) return 'o';
  if (Array.isArray(value)) return `[${Math.min(value.length, 1)}${value.length > 0 ? contextShape(value[0], depth + 1) : ''}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([key, field]) => `${key}:${contextShape(field, depth + 1)}`).join(',')}}`;
}

const describeEvent = (event: EventObject): string => {
  const { type, ...rest } = event as EventObject & Record<string, unknown>;
  const detail = rest.payload ?? rest.text ?? rest.command ?? rest.status;
  return detail === undefined ? type : `${type} ${JSON.stringify(detail)}`;
};

/** The paths of the state nodes a snapshot is in: `{ checkout: 'address' }` → checkout, checkout.address. */
function activePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...activePaths(child, path)];
  });
}

/**
 * Explores a machine with @xstate/graph's shortest paths, sending the sample events each
 * state accepts (and the payloads of the buttons it was just shown), and reports for every
 * state node whether it was reached, with the shortest event sequence that reaches it.
 * @example
 * const { states } = checkReachability(machine, { input, events: (choices) => [...samples, ...choices.map(toPayload)] });
 */
export function checkReachability(machine: AnyStateMachine, options: ReachabilityOptions): Reachability {
  const problems = new Set<string>();
  const [initial, initialActions] = initialTransition(machine, options.input);
  const start: Visit = { snapshot: initial, choices: choicesOf(initialActions) };

  const logic = {
    config: undefined,
    transition(visit: Visit, event: EventObject): Visit {
      try {
        const [next, actions] = transition(machine, visit.snapshot, event);
        // An event no transition takes (the same snapshot back, nothing to do): nothing new here.
        if (next === visit.snapshot && actions.length === 0) return visit;
        if (next.status === 'error') {
          problems.add(`${activePaths(visit.snapshot.value).at(-1) ?? '(root)'}: ${describeEvent(event)} failed: ${String(next.error)}`);
          return visit;
        }
        return { snapshot: next, choices: choicesOf(actions) };
      } catch (error) {
        problems.add(`${activePaths(visit.snapshot.value).at(-1) ?? '(root)'}: ${describeEvent(event)} threw: ${(error as Error).message}`);
        return visit;
      }
    },
    getInitialSnapshot: () => start,
    getPersistedSnapshot: (visit: Visit) => visit,
  };

  const reached = new Map<string, string[]>();
  try {
    const paths = shortestPaths(logic, {
      fromState: start,
      limit: options.limit ?? 200_000,
      serializeState: ({ snapshot, choices }) => {
        // The kinds of choices offered (`add`, `qty`…), not each product's: enough to tell
        // a menu from a product card, without one state per product.
        const offered = [...new Set(choices.map((choice) => choice.payload.split(':')[0]))].sort().join('|');
        return `${JSON.stringify(snapshot.value)}|${snapshot.status}|${contextShape(snapshot.context)}|${offered}`;
      },
      events: ({ snapshot, choices }) => {
        if (snapshot.status !== 'active') return [];
        return options.events(choices, snapshot);
      },
    });
    for (const path of paths) {
      const steps = path.steps.filter((step) => step.event.type !== 'xstate.init').map((step) => describeEvent(step.event));
      for (const statePath of activePaths(path.state.snapshot.value)) {
        const known = reached.get(statePath);
        if (!known || known.length > steps.length) reached.set(statePath, steps);
      }
    }
  } catch (error) {
    problems.add(`traversal stopped: ${(error as Error).message}`);
  }

  const graph = machineGraph('machine', machine);
  const all = allStates(graph.root).filter((state) => state.path !== '(root)');
  // A snapshot never rests in a transient state: it is reached when the machine passes
  // through it, entering it as the initial child of a reached state or by a transition
  // from a reached state.
  const pathById = new Map(all.map((state) => [state.id, state.path]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const state of all) {
      if (!state.transient || reached.has(state.path)) continue;
      const parent = all.find((candidate) => candidate.initial === state.id);
      const entries = [
        ...(parent && reached.has(parent.path) ? [reached.get(parent.path)!] : []),
        ...graph.edges
          .filter((edge) => edge.to === state.id && reached.has(pathById.get(edge.from) ?? ''))
          .map((edge) => [...reached.get(pathById.get(edge.from)!)!, `(${edge.label})`]),
      ];
      const shortest = entries.sort((a, b) => a.length - b.length)[0];
      if (shortest) {
        reached.set(state.path, shortest);
        changed = true;
      }
    }
  }
  const states = all.map((state): StateReach => {
    const steps = reached.get(state.path);
    return { path: state.path, ...(steps ? { steps } : {}), ...(state.transient ? { transient: true } : {}) };
  });
  return { states, problems: [...problems] };
}
