import { cartCount } from '../../src/commerce/cart.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { ShopServices } from '../services.js';
import { maxOrders, type Check, type CustomerOrder, type Handler } from './context.js';
import { payloads, readInput, type Intent } from './input.js';
import {
  categoriesMessage,
  helpMessage,
  maxCards,
  menuChoices,
  ordersMessage,
  productMessage,
  productsMessage,
  shoppingChoices,
  textMessage,
} from './views.js';

/** The intent of an input that reached a handler (its guard already matched it). */
export function intentOf({ texts }: ShopServices, event: InboundEvent): Intent {
  return readInput(event, texts, true);
}

/** The words of a text answer or a `find` intent. */
function searchWords(services: ShopServices, event: InboundEvent): string {
  const intent = intentOf(services, event);
  if (intent.kind === 'find') return intent.words;
  if (intent.kind === 'other') return intent.text;
  return event.type === 'text' ? event.text.trim() : '';
}

/** Greets a new customer, shows the menu to a known one. */
export const showMenu: Handler = (services, context) => {
  const count = cartCount(context.cart);
  const text = context.greeted ? services.texts.menu(count) : services.texts.greeting(count);
  return { context: { greeted: true, pending: undefined }, replies: [textMessage(services, text, menuChoices(services))] };
};

export const showHelp: Handler = (services) => ({ replies: [helpMessage(services)] });

/** Input nobody understood: say so, and list what the customer can do. Never silence. */
export const showUnknown: Handler = (services) => ({
  context: { greeted: true },
  replies: [helpMessage(services, services.texts.unknown)],
});

export const cancelled: Handler = (services) => ({
  context: { pending: undefined },
  replies: [textMessage(services, services.texts.cancelled, menuChoices(services))],
});

export const showCategories: Handler = (services) => ({ replies: [categoriesMessage(services)] });

export const showCategory: Handler = (services, context, event) => {
  const intent = intentOf(services, event);
  const category = intent.kind === 'category' ? intent.category : '';
  const products = services.catalog.byCategory(category);
  if (products.length === 0) return { replies: [categoriesMessage(services)] };
  const title = category || services.texts.buttons.otherCategory;
  const { buttons } = services.texts;
  const text = services.texts.categoryTitle(title, products.length, Math.min(products.length, maxCards));
  const choices = [
    { title: buttons.browse, payload: payloads.browse },
    ...(context.cart.length > 0 ? [{ title: buttons.checkout, payload: payloads.checkout }] : []),
    { title: buttons.cart, payload: payloads.cart },
    { title: buttons.menu, payload: payloads.menu },
  ];
  return { replies: [productsMessage(services, products, text, choices)] };
};

export const askSearch: Handler = (services) => ({
  replies: [textMessage(services, services.texts.askSearch, [{ title: services.texts.buttons.menu, payload: payloads.menu }])],
});

/** Search results for a `find` intent or the answer to "what are you looking for?". */
export const showSearch: Handler = (services, context, event) => {
  const { texts, catalog } = services;
  const words = searchWords(services, event);
  const found = catalog.search(words);
  const again = { title: texts.buttons.search, payload: payloads.search };
  if (found.length === 0) {
    const choices = [again, { title: texts.buttons.browse, payload: payloads.browse }, { title: texts.buttons.menu, payload: payloads.menu }];
    return { replies: [textMessage(services, texts.searchNothing(words), choices)] };
  }
  const text = texts.searchResults(words, found.length, Math.min(found.length, maxCards));
  return { replies: [productsMessage(services, found, text, [again, ...shoppingChoices(services, context.cart)])] };
};

/** Free text on the main menu that names products ("ethiopia", "green tea"): every word must match. */
export const freeTextMatches: Check = (services, _context, event) =>
  event.type === 'text' && services.catalog.search(event.text, { matchAll: true }).length > 0;

export const showFreeTextResults: Handler = (services, context, event) => {
  const { texts, catalog } = services;
  const words = event.type === 'text' ? event.text.trim() : '';
  const found = catalog.search(words, { matchAll: true });
  const text = texts.searchResults(words, found.length, Math.min(found.length, maxCards));
  return {
    context: { greeted: true },
    replies: [
      productsMessage(services, found, text, [
        { title: texts.buttons.search, payload: payloads.search },
        ...shoppingChoices(services, context.cart),
      ]),
    ],
  };
};

/** A product's card, for a `product:<id>` tap or a "product <id>" text. */
export const showProduct: Handler = (services, context, event) => {
  const intent = intentOf(services, event);
  const ref = intent.kind === 'product' ? intent.id : '';
  return answerProduct(services, ref, context.cart);
};

/** A question about one product (a WhatsApp referred product, a product link). */
export const answerProductQuestion: Handler = (services, context, event) =>
  answerProduct(services, event.type === 'product_question' ? event.productRef : '', context.cart);

function answerProduct(services: ShopServices, ref: string, cart: Parameters<typeof productMessage>[2]) {
  const product = services.catalog.get(ref) ?? services.catalog.find(ref);
  if (!product) {
    return { context: { greeted: true }, replies: [textMessage(services, services.texts.productNotFound(ref), menuChoices(services))] };
  }
  return { context: { greeted: true }, replies: [productMessage(services, product, cart)] };
}

export const showOrders: Handler = (services, context) => ({ replies: [ordersMessage(services, context.orders)] });

/** The order flow's news about an order: remembered for "My orders"; the order flow tells the customer. */
export const recordOrder: Handler = (_services, context, event) => {
  if (event.type !== 'order_update') return {};
  const order: CustomerOrder = {
    orderId: event.orderId,
    status: event.status,
    paid: event.paid,
    ...(event.total === undefined ? {} : { total: event.total }),
    ...(event.currency === undefined ? {} : { currency: event.currency }),
  };
  const known = context.orders.find((item) => item.orderId === event.orderId);
  if (!known) return { context: { orders: [...context.orders, order].slice(-maxOrders) } };
  // Updates may arrive out of order: a status never goes down, paid never goes back.
  const merged = { ...known, ...order, status: Math.max(known.status, order.status), paid: known.paid || order.paid };
  return { context: { orders: context.orders.map((item) => (item === known ? merged : item)) } };
};
