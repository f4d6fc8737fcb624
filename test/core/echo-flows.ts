import { assign, emit, setup } from 'xstate';
import type { Effect } from '../../src/core/effects.js';
import type { InboundEvent } from '../../src/core/events.js';
import { defineFlow, type FlowInput } from '../../src/core/flow.js';
import type { Address } from '../../src/core/ids.js';

/** Small flows for engine tests: they echo, count, order and schedule, nothing more. */
export interface EchoServices {
  readonly prefix: string;
}

const reply = (to: Address | undefined, text: string): Effect => ({
  type: 'reply',
  to: to!,
  message: { kind: 'text', text },
});

export function echoMachine({ prefix }: EchoServices) {
  return setup({
    types: {
      context: {} as { count: number },
      events: {} as InboundEvent,
      input: {} as FlowInput,
      emitted: {} as Effect,
    },
    guards: {
      says: ({ event }, word: string) => event.type === 'text' && event.text === word,
    },
  }).createMachine({
    id: 'echo',
    context: { count: 0 },
    initial: 'talking',
    states: {
      talking: {
        on: {
          text: [
            { guard: { type: 'says', params: 'boom' }, actions: () => { throw new Error('boom'); } },
            {
              guard: { type: 'says', params: 'order' },
              actions: emit(({ event }) => ({
                type: 'create_order' as const,
                customer: event.address!,
                total: 300,
                currency: 'EUR',
                order: { items: [{ id: 'p1', count: 3, price: 100 }] },
              })),
            },
            {
              guard: { type: 'says', params: 'later' },
              actions: emit(({ event }) => ({ type: 'schedule' as const, to: event.address!, command: 'wake up', at: event.at + 2_000 })),
            },
            {
              actions: [
                assign({ count: ({ context }) => context.count + 1 }),
                emit(({ context, event }) => reply(event.address, `${prefix}${context.count}:${event.type === 'text' ? event.text : ''}`)),
              ],
            },
          ],
          task_due: { actions: emit(({ event }) => reply(event.address, `task:${event.command}`)) },
          order_update: { actions: emit(({ event }) => reply(event.address, `order ${event.orderId} is ${event.status}`)) },
          payload: { actions: emit(({ event }) => reply(event.address, `payload:${event.payload}`)) },
        },
      },
    },
  });
}

export const echoFlow = defineFlow<EchoServices>({
  id: 'echo',
  version: 2,
  kind: 'conv',
  machine: echoMachine,
  restartNotice: (event) => [reply(event.address, 'we had to start over')],
});

/** The order side: tells the conversation about the new order. */
export const echoOrderFlow = defineFlow<EchoServices>({
  id: 'echo-order',
  version: 1,
  kind: 'order',
  machine: () =>
    setup({ types: { events: {} as InboundEvent, emitted: {} as Effect, input: {} as FlowInput } }).createMachine({
      on: {
        order_created: {
          actions: [
            emit(({ event }) => ({ type: 'notify_crm' as const, orderId: event.orderId, order: { id: event.orderId } })),
            emit(({ event }) => ({
            type: 'tell' as const,
            event: {
              type: 'order_update' as const,
              id: 'x',
              at: 0,
              key: `conv:${event.address!.channel}:${event.address!.account}:${event.address!.user}`,
              address: event.address,
              orderId: event.orderId,
              status: 0,
              paid: false,
            },
          })),
          ],
        },
      },
    }),
});

/** A customer-scoped flow reached by `@survey|…` buttons and told of order updates. */
export const surveyFlow = defineFlow<EchoServices>({
  id: 'survey',
  version: 1,
  kind: 'survey',
  scope: 'customer',
  subscribe: ['order_update'],
  machine: () =>
    setup({ types: { events: {} as InboundEvent, emitted: {} as Effect, input: {} as FlowInput } }).createMachine({
      on: {
        payload: { actions: emit(({ event }) => reply(event.address, `survey got ${event.payload}`)) },
        order_update: { actions: emit(({ event }) => reply(event.address, `survey saw order ${event.orderId}`)) },
      },
    }),
});
