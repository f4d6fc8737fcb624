import { assign, emit, setup } from 'xstate';
import type { Effect } from '../src/core/effects.js';
import type { InboundEvent } from '../src/core/events.js';
import { defineFlow, type FlowInput } from '../src/core/flow.js';
import { orderStatus } from '../src/commerce/order.js';
import type { ShopServices } from './services.js';

/** What the rating flow remembers per customer: the orders it asked about, and the scores. */
export interface RatingContext {
  readonly asked: readonly number[];
  readonly scores: Readonly<Record<string, number>>;
}

/** A score button's payload, as this flow reads it back: `<orderId>:<score>`. */
const scorePattern = /^(\d+):([1-5])$/;

function parseScore(event: InboundEvent): { orderId: number; score: number } | null {
  if (event.type !== 'payload') return null;
  const match = scorePattern.exec(event.payload);
  return match ? { orderId: Number(match[1]), score: Number(match[2]) } : null;
}

/**
 * Asks the customer to rate an order once it is delivered, and thanks them for the score.
 *
 * It is a `customer` flow: one actor per customer (`rating:<channel>:<account>:<user>`).
 * It hears `order_update` events that the order flow tells the customer's conversation
 * (`subscribe`), and its buttons carry `@rating|…` payloads, which the engine routes here
 * instead of to the shop conversation.
 */
export function createRatingMachine({ texts }: ShopServices) {
  // Every event a customer flow gets carries the customer's address.
  const say = (event: InboundEvent, text: string, quickReplies?: { title: string; payload: string }[]): Effect => ({
    type: 'reply',
    to: event.address!,
    message: { kind: 'text', text, ...(quickReplies ? { quickReplies, choicesTitle: texts.buttons.choose } : {}) },
  });

  return setup({
    types: {
      context: {} as RatingContext,
      events: {} as InboundEvent,
      input: {} as FlowInput,
      emitted: {} as Effect,
    },
    guards: {
      deliveredAndNotAsked: ({ context, event }) =>
        event.type === 'order_update' && event.status === orderStatus.delivered && !context.asked.includes(event.orderId),
      alreadyRated: ({ context, event }) => {
        const score = parseScore(event);
        return score !== null && context.scores[score.orderId] !== undefined;
      },
      scored: ({ context, event }) => {
        const score = parseScore(event);
        return score !== null && context.asked.includes(score.orderId);
      },
    },
  }).createMachine({
    id: 'rating',
    context: { asked: [], scores: {} },
    on: {
      order_update: {
        guard: 'deliveredAndNotAsked',
        actions: [
          assign({ asked: ({ context, event }) => [...context.asked, (event as { orderId: number }).orderId] }),
          emit(({ event }) => {
            const { orderId } = event as { orderId: number };
            const quickReplies = [1, 2, 3, 4, 5].map((score) => ({
              title: texts.rating.score(score),
              payload: `@rating|${orderId}:${score}`,
            }));
            return say(event, texts.rating.ask(orderId), quickReplies);
          }),
        ],
      },
      payload: [
        { guard: 'alreadyRated', actions: emit(({ event }) => say(event, texts.rating.already)) },
        {
          guard: 'scored',
          actions: [
            assign({
              scores: ({ context, event }) => {
                const { orderId, score } = parseScore(event)!;
                return { ...context.scores, [orderId]: score };
              },
            }),
            emit(({ event }) => say(event, texts.rating.thanks(parseScore(event)!.score))),
          ],
        },
        { actions: emit(({ event }) => say(event, texts.rating.invalid)) },
      ],
    },
  });
}

/** The rating request after delivery: the example of the README's "Adding a flow". */
export const ratingFlow = defineFlow<ShopServices>({
  id: 'rating',
  version: 1,
  kind: 'rating',
  scope: 'customer',
  subscribe: ['order_update'],
  machine: createRatingMachine,
});
