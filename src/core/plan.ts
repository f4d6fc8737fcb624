import type { Effect } from './effects.js';
import { EngineError } from './errors.js';
import { inboundEventSchema, type InboundEvent } from './events.js';
import type { FlowDefinition } from './flow.js';
import { conversationKey, keyKind, orderKey, type ActorKey, type OrderId } from './ids.js';
import { step, type CompiledFlow, type StepResult } from './runtime.js';
import type { Commit, InboxItem, MessageStatusUpdate, NewOrder, NewOutboxItem, SnapshotEnvelope, Store } from './store.js';

/** Which flow serves which actor key, and where customers' events go. */
export class Router {
  readonly #byKind = new Map<string, CompiledFlow>();
  readonly #subscribers: FlowDefinition<never>[] = [];

  constructor(flows: readonly CompiledFlow[]) {
    for (const flow of flows) {
      const { kind } = flow.definition;
      if (this.#byKind.has(kind)) throw new TypeError(`two flows serve actor kind "${kind}"`);
      this.#byKind.set(kind, flow);
      if (flow.definition.scope === 'customer' && flow.definition.subscribe?.length) {
        this.#subscribers.push(flow.definition);
      }
    }
  }

  flowFor(key: ActorKey): CompiledFlow {
    const flow = this.#byKind.get(keyKind(key));
    if (!flow) throw new EngineError('BAD_REQUEST', `no flow serves actor kind "${keyKind(key)}"`);
    return flow;
  }

  serves(key: ActorKey): boolean {
    return this.#byKind.has(keyKind(key));
  }

  /**
   * Where an event goes. A customer's button whose payload is `@<kind>|<rest>` goes to that
   * customer's actor of a `customer`-scoped flow: `<kind>:<channel>:<account>:<user>`. Only
   * the customer's own actors can be reached this way.
   */
  route(event: InboundEvent): InboundEvent {
    if (event.type !== 'payload' || event.payload[0] !== '@' || !event.address) return event;
    const bar = event.payload.indexOf('|');
    const kind = event.payload.slice(1, bar < 0 ? undefined : bar);
    const flow = this.#byKind.get(kind);
    if (!flow || flow.definition.scope !== 'customer') return event;
    const key = `${kind}${conversationKey(event.address).slice('conv'.length)}` as ActorKey;
    return { ...event, key, payload: bar < 0 ? '' : event.payload.slice(bar + 1) };
  }

  /** Copies of an event told to a conversation, for the customer flows that subscribe to its type. */
  fanOut(event: InboundEvent): InboundEvent[] {
    if (keyKind(event.key) !== 'conv' || this.#subscribers.length === 0) return [];
    const rest = event.key.slice('conv'.length);
    return this.#subscribers
      .filter((flow) => flow.subscribe!.includes(event.type))
      .map((flow) => ({ ...event, id: `${event.id}>${flow.kind}`, key: `${flow.kind}${rest}` as ActorKey }));
  }
}

/** An actor's next event, with the actor as stored. */
export interface BatchHead {
  readonly key: ActorKey;
  readonly item: InboxItem;
  readonly stored: SnapshotEnvelope | null;
}

/** A head stepped and planned: its commit is ready. */
export interface PlannedStep extends BatchHead {
  readonly result: StepResult;
  readonly commit: Commit;
}

/**
 * Steps each head through its flow and plans its commit, allocating the order ids the batch
 * creates in one call. A head whose flow or plan throws is answered in `failed`, and the rest
 * of the batch goes on without it.
 */
export async function planBatch(
  store: Pick<Store, 'allocateOrderIds'>,
  router: Router,
  heads: readonly BatchHead[],
  at: number,
): Promise<{ planned: PlannedStep[]; failed: (BatchHead & { error: unknown })[] }> {
  const failed: (BatchHead & { error: unknown })[] = [];
  const stepped: (BatchHead & { result: StepResult })[] = [];
  let creates = 0;
  for (const head of heads) {
    try {
      const result = step(router.flowFor(head.key), head.stored, head.item.event);
      for (const effect of result.effects) if (effect.type === 'create_order') creates++;
      stepped.push({ ...head, result });
    } catch (error) {
      failed.push({ ...head, error });
    }
  }
  const orderIds = creates === 0 ? [] : await store.allocateOrderIds(creates);
  const planned: PlannedStep[] = [];
  for (const s of stepped) {
    try {
      const { event } = s.item;
      planned.push({ ...s, commit: planCommit({ event, seq: s.item.seq, expectedRev: s.stored?.rev ?? 0, result: s.result, orderIds, router, at }) });
    } catch (error) {
      failed.push({ ...s, error });
    }
  }
  return { planned, failed };
}

/** Events the customer sent themselves (they open a platform's messaging window). */
export const customerWritten = new Set<InboundEvent['type']>(['text', 'payload', 'product_question', 'cart_order', 'command']);

export interface PlanInput {
  readonly event: InboundEvent;
  readonly seq: number;
  readonly expectedRev: number;
  readonly result: StepResult;
  /** Order ids allocated for this batch; taken from the front. */
  readonly orderIds: OrderId[];
  readonly router: Router;
  readonly at: number;
}

/**
 * Turns one step's effects into the rows of its commit. Ids of events this commit adds
 * derive from the source event's id, so running the same event again (after a crash
 * before the commit) produces the same rows, and the inbox dedupes them.
 */
export function planCommit({ event, seq, expectedRev, result, orderIds, router, at }: PlanInput): Commit {
  const outbox: NewOutboxItem[] = [];
  const inbox: InboundEvent[] = [];
  const createOrders: NewOrder[] = [];
  const updateOrders: { id: OrderId; status?: number; paid?: boolean }[] = [];
  const tasks: { customer: NonNullable<InboundEvent['address']>; command: string; dueAt: number }[] = [];
  const tell = (told: InboundEvent) => {
    inbox.push(told);
    for (const copy of router.fanOut(told)) inbox.push(copy);
  };

  if (event.type === 'push' && event.address) {
    const message = { ...event.message, intent: event.message.intent ?? ('update' as const) };
    outbox.push({ lane: conversationKey(event.address), effect: { type: 'reply', to: event.address, message } });
  }
  result.effects.forEach((effect: Effect, index) => {
    switch (effect.type) {
      case 'reply':
        outbox.push({ lane: conversationKey(effect.to), effect });
        break;
      case 'notify_crm':
        outbox.push({ lane: `crm:${effect.orderId}`, effect });
        break;
      case 'create_order': {
        const id = orderIds.shift();
        if (id === undefined) throw new EngineError('INTERNAL', 'no order id was allocated');
        createOrders.push({ id, customer: effect.customer, total: effect.total, currency: effect.currency, data: effect.order });
        tell({
          type: 'order_created',
          id: `${event.id}#${index}`,
          key: orderKey(id),
          at: event.at,
          address: effect.customer,
          orderId: id,
          order: { ...effect.order, id, customer: effect.customer, total: effect.total, currency: effect.currency },
        });
        break;
      }
      case 'update_order':
        updateOrders.push({
          id: effect.orderId as OrderId,
          ...(effect.status === undefined ? {} : { status: effect.status }),
          ...(effect.paid === undefined ? {} : { paid: effect.paid }),
        });
        break;
      case 'schedule':
        tasks.push({ customer: effect.to, command: effect.command, dueAt: effect.at });
        break;
      case 'tell': {
        const told = inboundEventSchema.safeParse({ ...effect.event, id: `${event.id}#${index}`, at: event.at });
        if (!told.success) throw new EngineError('FLOW', `a told event is not valid: ${told.error.issues[0]?.message}`);
        if (!router.serves(told.data.key)) throw new EngineError('FLOW', `no flow serves ${told.data.key}`);
        tell(told.data);
        break;
      }
    }
  });

  const customer = keyKind(event.key) === 'order' ? undefined : event.address;
  const wroteIt = customer !== undefined && customerWritten.has(event.type);
  return {
    key: event.key,
    seq,
    expectedRev,
    envelope: result.envelope,
    outbox,
    inbox,
    createOrders,
    updateOrders,
    tasks,
    ...(event.type === 'task_due' ? { completeTask: event.taskId } : {}),
    ...(event.type === 'message_status' ? { statuses: [statusUpdate(event)] } : {}),
    ...(customer ? { customer } : {}),
    ...(wroteIt ? { customerSeenAt: event.at } : {}),
    at,
  };
}

function statusUpdate(event: Extract<InboundEvent, { type: 'message_status' }>): MessageStatusUpdate {
  if (!event.address) throw new EngineError('BAD_REQUEST', 'a message status needs the customer it was sent to');
  const common = { recipient: event.address, status: event.status, at: event.at, ...(event.error === undefined ? {} : { error: event.error }) };
  if (event.messageId !== undefined) return { ...common, platformId: event.messageId };
  return { ...common, upTo: event.upTo! };
}
