import { createShopServices, shopFlows } from '../../flows/index.js';
import { buildOrderData, loadCatalogFile, orderStatuses, priceCart, type Catalog } from '../commerce/index.js';
import type { InboundEvent } from '../core/events.js';
import type { FlowDefinition } from '../core/flow.js';
import { conversationKey, orderKey, type ActorKey } from '../core/ids.js';
import type { Choice } from '../core/outbound.js';
import { demoCatalogFile } from '../server/config.js';
import { checkReachability } from './flow-check.js';
import { machineGraph, toDot, toMermaid } from './flow-graph.js';

type ShopServices = ReturnType<typeof createShopServices>;

async function demoServices(): Promise<{ catalog: Catalog; services: ShopServices }> {
  const catalog = await loadCatalogFile(demoCatalogFile());
  return { catalog, services: createShopServices(catalog) };
}

/**
 * A diagram of every flow's machine, compiled with the demo catalog.
 * @example console.log(await graphFlows('mermaid'))
 */
export async function graphFlows(format: 'mermaid' | 'dot'): Promise<string> {
  const { services } = await demoServices();
  const graphs = shopFlows.map((flow, index) =>
    machineGraph(`${flow.id} v${flow.version}`, flow.machine(services), `f${index}_${flow.id.replace(/\W/g, '_')}`),
  );
  return format === 'dot' ? toDot(graphs) : toMermaid(graphs);
}

const customer = { channel: 'web', account: 'check', user: 'flow-check' };

/** What a customer (or the merchant, for orders) could send, for a flow's traversal. */
function sampleEvents(flow: FlowDefinition<ShopServices>, catalog: Catalog, services: ShopServices): (choices: readonly Choice[]) => InboundEvent[] {
  const key: ActorKey = flow.kind === 'order' ? orderKey(1) : (`${flow.kind}:web:check:flow-check` as ActorKey);
  const base = { id: 'sample', key, at: Date.UTC(2026, 0, 1, 9), address: customer };
  // Words the flows recognize (the first of each list), products by name, and answers to
  // checkout's questions.
  const words = Object.values((services.texts as { words?: Record<string, readonly string[]> }).words ?? {}).flatMap((list) => list.slice(0, 1));
  const products = catalog.products.slice(0, 2);
  const texts = new Set([
    ...words,
    ...products.map((product) => product.title),
    'xyzzy',
    '2',
    '0',
    'Ada Lovelace',
    '+44 20 7946 0958',
    '12 Analytical Way, London',
    'tomorrow after 6pm',
  ]);
  const first = catalog.products[0]!;
  const order = buildOrderData(priceCart([{ productId: first.id, quantity: 1 }], catalog, { delivery: 'pickup' }), {
    recipient: 'Ada Lovelace',
    mobile: '+442079460958',
    time: 'as soon as possible',
  });
  // An order's lifecycle hears from the conversation and the merchant; a conversation hears
  // from its customer, and news of its orders.
  const fixed: InboundEvent[] =
    flow.kind === 'order'
      ? [
          // As the engine tells it: the order model with its id, customer and total.
          { ...base, type: 'order_created', orderId: 1, order: { ...order, id: 1, customer, total: order.cost_total } },
          { ...base, type: 'order_paid', orderId: 1 },
          ...orderStatuses.map(({ code }): InboundEvent => ({ ...base, type: 'order_status', orderId: 1, status: code })),
        ]
      : [
          ...[...texts].map((text): InboundEvent => ({ ...base, type: 'text', text })),
          { ...base, type: 'command', command: 'menu' },
          { ...base, type: 'task_due', taskId: 1, command: 'menu' },
          { ...base, type: 'product_question', productRef: first.article },
          { ...base, type: 'cart_order', items: products.map((product) => ({ ref: product.article, quantity: 1 })) },
          { ...base, type: 'order_update', orderId: 1, status: 20, paid: false, total: order.cost_total, currency: order.currency },
        ];
  return (choices) => {
    // Two choices of each kind (`add:…`, `qty:…`) stand for all of them: a card per product
    // would multiply the states explored without reaching new ones.
    const perKind = new Map<string, number>();
    const tapped = choices.filter((choice) => {
      const kind = choice.payload.split(':')[0]!;
      perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
      return perKind.get(kind)! <= 2;
    });
    return [...tapped.map((choice): InboundEvent => ({ ...base, type: 'payload', payload: choice.payload, title: choice.title })), ...fixed];
  };
}

/** What `orderly flows check` prints, and whether it passed. */
export interface FlowsReport {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/**
 * Compiles every flow with the demo services and reports each state's reachability, with
 * the shortest sequence of events that reaches it. Not ok when a state is unreachable.
 * @example const { ok, lines } = await checkFlows();
 */
export async function checkFlows(): Promise<FlowsReport> {
  const { catalog, services } = await demoServices();
  const lines: string[] = [];
  let ok = true;
  for (const flow of shopFlows) {
    const machine = flow.machine(services);
    const key = flow.kind === 'order' ? orderKey(1) : conversationKey(customer);
    const { states, problems } = checkReachability(machine, {
      input: { key, address: customer },
      events: sampleEvents(flow, catalog, services),
    });
    const unreachable = states.filter((state) => !state.steps);
    if (unreachable.length > 0) ok = false;
    lines.push(
      `flow ${flow.id} v${flow.version} (${flow.kind}): ${states.length} states, ${
        unreachable.length === 0 ? 'all reachable' : `${unreachable.length} unreachable`
      }`,
    );
    const width = Math.max(0, ...states.map((state) => state.path.length));
    for (const state of states) {
      const how = state.steps
        ? `${state.steps.length === 0 ? 'initial' : state.steps.join(' → ')}${state.transient ? ' (passed through)' : ''}`
        : 'UNREACHABLE';
      lines.push(`  ${state.steps ? '✓' : '✗'} ${state.path.padEnd(width)}  ${how}`);
    }
    for (const problem of problems) lines.push(`  ! ${problem}`);
  }
  return { ok, lines };
}
