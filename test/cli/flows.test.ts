import { describe, expect, it } from 'vitest';
import { emit, setup } from 'xstate';
import { checkReachability, contextShape } from '../../src/cli/flow-check.js';
import { machineGraph, toDot, toMermaid } from '../../src/cli/flow-graph.js';

type Event = { type: 'text'; text: string } | { type: 'payload'; payload: string };

/** A small conversation: a menu whose button opens a form; `orphan` is never targeted. */
const machine = setup({
  types: { events: {} as Event, context: {} as { answers: string[] }, emitted: {} as { type: 'reply'; message: unknown } },
  guards: { isGo: ({ event }) => event.type === 'payload' && event.payload === 'go' },
}).createMachine({
  id: 'demo',
  context: { answers: [] },
  initial: 'menu',
  states: {
    menu: {
      entry: emit({ type: 'reply', message: { kind: 'text', text: 'Hi', quickReplies: [{ title: 'Go', payload: 'go' }] } }),
      on: { payload: { guard: 'isGo', target: 'form' } },
    },
    form: {
      initial: 'decide',
      states: {
        decide: { always: [{ target: 'asking' }] },
        asking: { on: { text: { target: '#demo.done' } } },
      },
    },
    orphan: {},
    done: { type: 'final' },
  },
});

describe('machineGraph', () => {
  it('walks every state node and transition', () => {
    const graph = machineGraph('demo v1', machine, 'd');
    expect(graph.root.children.map((state) => state.path)).toEqual(['menu', 'form', 'orphan', 'done']);
    expect(graph.edges.map((edge) => `${edge.from} -${edge.label}-> ${edge.to}`)).toEqual([
      'd_menu -payload [isGo]-> d_form',
      'd_form__decide -always-> d_form__asking',
      'd_form__asking -text-> d_done',
    ]);
  });

  it('draws Mermaid and Graphviz diagrams', () => {
    const graph = machineGraph('demo v1', machine, 'd');
    const mermaid = toMermaid([graph]);
    expect(mermaid.split('\n')[0]).toBe('flowchart TD');
    expect(mermaid).toContain('subgraph d_form["form"]');
    expect(mermaid).toContain('d_menu -->|"payload [isGo]"| d_form');
    expect(mermaid).toContain('d_done((("done")))');
    const dot = toDot([graph]);
    expect(dot).toContain('subgraph cluster_d_form {');
    // A transition into a compound state points at its initial child, clipped at the cluster.
    expect(dot).toContain('d_menu -> d_form__decide [label="payload [isGo]", lhead=cluster_d_form];');
    expect(dot).toContain('d_done [label="done", shape=doublecircle];');
  });
});

describe('checkReachability', () => {
  it('finds each reachable state by the shortest events, taps offered buttons, and reports the orphan', () => {
    const { states, problems } = checkReachability(machine, {
      input: undefined,
      events: (choices) => [
        { type: 'text', text: 'hello' },
        ...choices.map((choice) => ({ type: 'payload', payload: choice.payload })),
      ],
    });
    expect(problems).toEqual([]);
    expect(states).toEqual([
      { path: 'menu', steps: [] },
      { path: 'form', steps: ['payload "go"'] },
      { path: 'form.decide', steps: ['payload "go"'], transient: true },
      { path: 'form.asking', steps: ['payload "go"'] },
      { path: 'orphan' },
      { path: 'done', steps: ['payload "go"', 'text "hello"'] },
    ]);
  });

  it('taps the buttons of a step that only replies (the snapshot stays the same)', () => {
    // `help` changes nothing but offers a button: XState answers the very same snapshot.
    const helpful = setup({
      types: { events: {} as Event, emitted: {} as { type: 'reply'; message: unknown } },
    }).createMachine({
      initial: 'menu',
      states: {
        menu: {
          on: {
            text: { actions: emit({ type: 'reply', message: { kind: 'text', text: 'Need a hand?', quickReplies: [{ title: 'Agent', payload: 'agent' }] } }) },
            payload: { target: 'agent' },
          },
        },
        agent: {},
      },
    });
    const { states } = checkReachability(helpful, {
      input: undefined,
      events: (choices) => [{ type: 'text', text: 'help' }, ...choices.map((choice) => ({ type: 'payload', payload: choice.payload }))],
    });
    expect(states).toEqual([
      { path: 'menu', steps: [] },
      { path: 'agent', steps: ['text "help"', 'payload "agent"'] },
    ]);
  });
});

describe('contextShape', () => {
  it('keeps what guards look at: set keys and empty or non-empty lists', () => {
    expect(contextShape({ cart: [], name: 'Ada', n: 3, missing: undefined })).toBe('{cart:[0],n:n,name:s}');
    expect(contextShape({ cart: [{ id: 'a' }, { id: 'b' }] })).toBe(contextShape({ cart: [{ id: 'c' }] }));
  });
});
