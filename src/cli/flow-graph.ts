import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** A state node as the diagram draws it. */
export interface GraphState {
  readonly id: string;
  /** The state node's path in its machine (`browsing.product`), `(root)` for the machine. */
  readonly path: string;
  readonly label: string;
  readonly type: AnyStateNode['type'];
  readonly children: readonly GraphState[];
  /** The child entered first (compound states). */
  readonly initial?: string;
  /** Left at once by an unguarded `always` transition: a decision the machine passes through, never rests in. */
  readonly transient: boolean;
}

/** A transition as the diagram draws it. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The event (`text`, `always`, `after 5000`). */
  readonly event: string;
  /** The guard, with its string params: `is menu`. */
  readonly guard?: string;
  /** The event, with its guard in brackets: `text [is menu]`. */
  readonly label: string;
}

/** One flow's machine as states and transitions. */
export interface FlowGraph {
  readonly name: string;
  readonly root: GraphState;
  readonly edges: readonly GraphEdge[];
}

const safe = (text: string) => text.replace(/[^A-Za-z0-9_]/g, '_');

/** A guard as a label: its name, with its string params (`is menu`, `needs address`). */
function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') {
    const params = 'params' in guard ? guard.params : undefined;
    const shown =
      typeof params === 'string'
        ? [params]
        : typeof params === 'object' && params !== null
          ? Object.values(params).filter((value): value is string => typeof value === 'string')
          : [];
    return [guard.type, ...shown].join(' ');
  }
  return 'guard';
}

/**
 * Transitions between the same two states, as one arrow: one label line per guard, with
 * the events it applies to (`payload, command [is menu]`).
 */
export function groupEdges(edges: readonly GraphEdge[]): { from: string; to: string; labels: string[] }[] {
  const grouped = new Map<string, { from: string; to: string; byGuard: Map<string, string[]> }>();
  for (const edge of edges) {
    const key = `${edge.from}->${edge.to}`;
    let group = grouped.get(key);
    if (!group) grouped.set(key, (group = { from: edge.from, to: edge.to, byGuard: new Map() }));
    const guard = edge.guard ?? '';
    const events = group.byGuard.get(guard) ?? [];
    if (!events.includes(edge.event)) events.push(edge.event);
    group.byGuard.set(guard, events);
  }
  return [...grouped.values()].map(({ from, to, byGuard }) => ({
    from,
    to,
    labels: [...byGuard].map(([guard, events]) => `${events.join(', ')}${guard ? ` [${guard}]` : ''}`),
  }));
}

function eventLabel(eventType: string): string {
  if (eventType === '') return 'always';
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  return eventType;
}

/**
 * Walks an XState 5 machine (`machine.root` and each node's `states`, `transitions` and
 * `always`) into states and labelled transitions.
 * @example machineGraph('shop v1', shopFlow.machine(services)).edges[0] // { from, to, label: 'text' }
 */
export function machineGraph(name: string, machine: AnyStateMachine, prefix = 'm'): FlowGraph {
  const edges: GraphEdge[] = [];
  const idOf = (node: AnyStateNode) => `${prefix}_${safe(node.path.join('__') || 'root')}`;

  const visit = (node: AnyStateNode): GraphState => {
    const id = idOf(node);
    const transitions = [...node.transitions.values()].flat().concat(node.always ?? []);
    for (const transition of transitions) {
      const guard = guardName(transition.guard);
      const event = eventLabel(String(transition.eventType));
      const label = `${event}${guard ? ` [${guard}]` : ''}`;
      // A targetless transition stays where it is (it only runs actions): drawn as a loop.
      for (const target of transition.target ?? [node]) {
        edges.push({ from: id, to: idOf(target), event, label, ...(guard ? { guard } : {}) });
      }
    }
    const children = Object.values(node.states as Record<string, AnyStateNode>).map(visit);
    const initialTarget = node.type === 'compound' ? node.initial.target[0] : undefined;
    return {
      id,
      path: node.path.join('.') || '(root)',
      label: node.path.length > 0 ? node.key : name,
      type: node.type,
      transient: (node.always ?? []).some((transition) => !transition.guard),
      children,
      ...(initialTarget ? { initial: idOf(initialTarget) } : {}),
    };
  };
  return { name, root: visit(machine.root), edges };
}

/** Every state of a graph, depth first. */
export function allStates(state: GraphState): GraphState[] {
  return [state, ...state.children.flatMap(allStates)];
}

const quote = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

/**
 * A Mermaid flowchart of the flows: a subgraph per compound state, `(( ))` for finals.
 * @example console.log(toMermaid([machineGraph('shop', machine)]))
 */
export function toMermaid(graphs: readonly FlowGraph[]): string {
  const lines = ['flowchart TD'];
  const draw = (state: GraphState, depth: number) => {
    const pad = '  '.repeat(depth);
    if (state.children.length > 0) {
      lines.push(`${pad}subgraph ${state.id}[${quote(state.label)}]`);
      if (state.initial) lines.push(`${pad}  ${state.id}_start((" ")) --> ${state.initial}`);
      for (const child of state.children) draw(child, depth + 1);
      lines.push(`${pad}end`);
    } else if (state.type === 'final') {
      lines.push(`${pad}${state.id}(((${quote(state.label)})))`);
    } else {
      lines.push(`${pad}${state.id}(${quote(state.label)})`);
    }
  };
  for (const graph of graphs) {
    draw(graph.root, 1);
    for (const edge of groupEdges(graph.edges)) lines.push(`  ${edge.from} -->|${quote(edge.labels.join('<br/>'))}| ${edge.to}`);
  }
  return lines.join('\n');
}

/**
 * A Graphviz digraph of the flows: a cluster per compound state; a transition from or to a
 * compound state is drawn to its cluster's border.
 * @example console.log(toDot([machineGraph('shop', machine)]))
 */
export function toDot(graphs: readonly FlowGraph[]): string {
  const lines = ['digraph flows {', '  compound=true;', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const dq = (text: string) => `"${escape(text)}"`;
  const anchors = new Map<string, { node: string; cluster?: string }>();
  const anchor = (state: GraphState): string => {
    if (state.children.length === 0) return state.id;
    const first = state.children.find((child) => child.id === state.initial) ?? state.children[0]!;
    return anchor(first);
  };
  const draw = (state: GraphState, depth: number) => {
    const pad = '  '.repeat(depth);
    if (state.children.length > 0) {
      anchors.set(state.id, { node: anchor(state), cluster: `cluster_${state.id}` });
      lines.push(`${pad}subgraph cluster_${state.id} {`, `${pad}  label=${dq(state.label)};`);
      if (state.initial) {
        lines.push(`${pad}  ${state.id}_start [shape=point, label=""];`, `${pad}  ${state.id}_start -> ${state.initial};`);
      }
      for (const child of state.children) draw(child, depth + 1);
      lines.push(`${pad}}`);
    } else {
      anchors.set(state.id, { node: state.id });
      lines.push(`${pad}${state.id} [label=${dq(state.label)}${state.type === 'final' ? ', shape=doublecircle' : ''}];`);
    }
  };
  for (const graph of graphs) {
    draw(graph.root, 1);
    for (const edge of groupEdges(graph.edges)) {
      const from = anchors.get(edge.from);
      const to = anchors.get(edge.to);
      if (!from || !to) continue;
      // `\n` inside a DOT string is Graphviz's line break.
      const attributes = [`label="${edge.labels.map(escape).join('\\n')}"`];
      if (from.cluster) attributes.push(`ltail=${from.cluster}`);
      if (to.cluster && to.cluster !== from.cluster) attributes.push(`lhead=${to.cluster}`);
      lines.push(`  ${from.node} -> ${to.node} [${attributes.join(', ')}];`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}
