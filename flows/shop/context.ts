import type { Cart, Delivery } from '../../src/commerce/cart.js';
import type { Effect } from '../../src/core/effects.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { FlowInput } from '../../src/core/flow.js';
import type { Address } from '../../src/core/ids.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import type { ShopServices } from '../services.js';

/** What checkout has collected so far; kept when the customer leaves checkout and comes back. */
export interface CheckoutDraft {
  readonly delivery?: Delivery;
  readonly address?: string;
  readonly recipient?: string;
  readonly mobile?: string;
  readonly time?: string;
}

/** One of the customer's orders, as the order flow last told it. */
export interface CustomerOrder {
  readonly orderId: number;
  readonly status: number;
  readonly paid: boolean;
  readonly total?: number;
  readonly currency?: string;
}

/** The conversation's memory. Plain JSON: it is persisted with the snapshot. */
export interface ShopContext {
  readonly customer?: Address;
  readonly greeted: boolean;
  readonly cart: Cart;
  readonly checkout: CheckoutDraft;
  /** The product a quantity question is about (adding or editing). */
  readonly pending?: string;
  /** Newest last, at most `maxOrders`. */
  readonly orders: readonly CustomerOrder[];
}

/** How many orders the conversation remembers. */
export const maxOrders = 20;

/** The context of a new conversation. */
export function initialContext(input: FlowInput | undefined): ShopContext {
  return { ...(input?.address ? { customer: input.address } : {}), greeted: false, cart: [], checkout: {}, orders: [] };
}

/** What a handler decides: context changes, messages for the customer, other effects. */
export interface Outcome {
  readonly context?: Partial<ShopContext>;
  readonly replies?: readonly OutboundMessage[];
  readonly effects?: readonly Effect[];
}

/** A pure handler of one kind of input. */
export type Handler = (services: ShopServices, context: ShopContext, event: InboundEvent) => Outcome;

/** A pure test of an input. */
export type Check = (services: ShopServices, context: ShopContext, event: InboundEvent) => boolean;

/** Turns an outcome into effects: replies go to the event's customer (or the remembered one). */
export function effectsOf(outcome: Outcome, context: ShopContext, event: InboundEvent): Effect[] {
  const to = event.address ?? context.customer;
  const replies: Effect[] = to ? (outcome.replies ?? []).map((message) => ({ type: 'reply', to, message })) : [];
  return [...replies, ...(outcome.effects ?? [])];
}
