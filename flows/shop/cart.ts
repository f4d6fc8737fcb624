import { cartCount, maxLineQuantity, priceCart, setQuantity, type Cart } from '../../src/commerce/cart.js';
import { isAvailable, type Product } from '../../src/commerce/product.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import type { ShopServices } from '../services.js';
import { intentOf } from './browse.js';
import type { Check, Handler, Outcome, ShopContext } from './context.js';
import { payloads } from './input.js';
import { cartMessage, cartSize, menuChoices, money, shoppingChoices, textMessage } from './views.js';

/** The most of a product a cart line may hold: the stock when it is counted. */
function limitOf(product: Product): number {
  return Math.min(product.stock ?? maxLineQuantity, maxLineQuantity);
}

/** A typed whole number from `min` to the line maximum, or undefined. */
function typedQuantity(event: InboundEvent, min: number): number | undefined {
  if (event.type !== 'text') return undefined;
  const match = /^\s*(\d{1,3})\s*$/.exec(event.text);
  const quantity = match ? Number(match[1]) : NaN;
  return quantity >= min && quantity <= maxLineQuantity ? quantity : undefined;
}

function productOf(services: ShopServices, event: InboundEvent): Product | undefined {
  const intent = intentOf(services, event);
  return 'id' in intent ? services.catalog.get(intent.id) : undefined;
}

/** Adds to the cart within the stock, and says what happened. */
function addProduct(services: ShopServices, context: ShopContext, productId: string | undefined, quantity: number): Outcome {
  const { texts, catalog } = services;
  const product = productId === undefined ? undefined : catalog.get(productId);
  if (!product) {
    return { context: { pending: undefined }, replies: [textMessage(services, texts.productNotFound(productId ?? ''), menuChoices(services))] };
  }
  if (!isAvailable(product)) {
    const replies = [textMessage(services, texts.outOfStock(product.title), shoppingChoices(services, context.cart))];
    return { context: { pending: undefined }, replies };
  }
  const before = context.cart.find((line) => line.productId === product.id)?.quantity ?? 0;
  const after = Math.min(before + quantity, limitOf(product));
  const cart = after > before ? setQuantity(context.cart, product.id, after) : context.cart;
  const size = cartSize(services, cart);
  const lines = [
    ...(after > before ? [texts.added(after - before, product.title, size.count, size.subtotal)] : []),
    ...(after < before + quantity ? [texts.onlyLeft(product.title, after)] : []),
  ];
  return { context: { cart, pending: undefined }, replies: [textMessage(services, lines.join('\n'), shoppingChoices(services, cart))] };
}

/** Sets a cart line within the stock (0 removes it), then shows the cart. */
function setLine(services: ShopServices, context: ShopContext, productId: string | undefined, quantity: number): Outcome {
  const { texts, catalog } = services;
  const product = productId === undefined ? undefined : catalog.get(productId);
  const notes: string[] = [];
  let cart = context.cart;
  if (product && quantity === 0) {
    cart = setQuantity(cart, product.id, 0);
    notes.push(texts.removed(product.title));
  } else if (product && !isAvailable(product)) {
    notes.push(texts.outOfStock(product.title));
  } else if (product) {
    const capped = Math.min(quantity, limitOf(product));
    cart = setQuantity(cart, product.id, capped);
    if (capped < quantity) notes.push(texts.onlyLeft(product.title, capped));
  } else {
    notes.push(texts.notInCart);
  }
  const view = cartMessage(services, cart);
  const replies: OutboundMessage[] = [...(notes.length > 0 ? [textMessage(services, notes.join('\n'))] : []), view.message];
  return { context: { cart: view.cart, pending: undefined }, replies };
}

/** `add:<id>` of a product that can be bought: ask how many. */
export const canAdd: Check = (services, _context, event) => {
  const intent = intentOf(services, event);
  const product = intent.kind === 'add' ? services.catalog.get(intent.id) : undefined;
  return product !== undefined && isAvailable(product);
};

export const rememberProduct: Handler = (services, _context, event) => ({ context: { pending: productOf(services, event)?.id } });

/** `add:<id>` of a product that is unknown or out of stock. */
export const cannotAdd: Handler = (services, context, event) => {
  const intent = intentOf(services, event);
  return addProduct(services, context, intent.kind === 'add' ? intent.id : undefined, 1);
};

export const askQuantity: Handler = (services, context) => {
  const product = context.pending === undefined ? undefined : services.catalog.get(context.pending);
  if (!product) return { replies: [textMessage(services, services.texts.productNotFound(context.pending ?? ''), menuChoices(services))] };
  const text = services.texts.askQuantity(product.title, money(services, product.price));
  return { replies: [textMessage(services, text, quantityChoices(services, product))] };
};

/** 1, 2, 3 (as far as the stock goes), then Cancel. */
function quantityChoices(services: ShopServices, product: Product) {
  return [
    ...[1, 2, 3].filter((n) => n <= limitOf(product)).map((n) => ({ title: String(n), payload: payloads.qty(product.id, n) })),
    { title: services.texts.buttons.cancel, payload: payloads.cancel },
  ];
}

/** `qty:<id>:<n>`: add n, from the quantity question or an old button. */
export const addQuantity: Handler = (services, context, event) => {
  const intent = intentOf(services, event);
  if (intent.kind !== 'qty' || intent.quantity < 1) return { replies: [textMessage(services, services.texts.quantityInvalid(maxLineQuantity))] };
  return addProduct(services, context, intent.id, intent.quantity);
};

export const quantityAnswer: Check = (_services, _context, event) => typedQuantity(event, 1) !== undefined;

export const addPending: Handler = (services, context, event) =>
  addProduct(services, context, context.pending, typedQuantity(event, 1) ?? 1);

export const quantityInvalid: Handler = (services, context) => {
  const product = context.pending === undefined ? undefined : services.catalog.get(context.pending);
  const text = services.texts.quantityInvalid(maxLineQuantity);
  return { replies: [textMessage(services, text, product ? quantityChoices(services, product) : menuChoices(services))] };
};

/** `edit:<id>` of a product in the cart: ask for the new quantity. */
export const canEdit: Check = (services, context, event) => {
  const intent = intentOf(services, event);
  if (intent.kind !== 'edit') return false;
  return context.cart.some((line) => line.productId === intent.id) && services.catalog.get(intent.id) !== undefined;
};

export const askNewQuantity: Handler = (services, context) => {
  const product = context.pending === undefined ? undefined : services.catalog.get(context.pending);
  const line = context.cart.find((item) => item.productId === context.pending);
  if (!product || !line) return { replies: [cartMessage(services, context.cart).message] };
  return { replies: [textMessage(services, services.texts.askNewQuantity(product.title, line.quantity), editChoices(services, product))] };
};

/** Remove, 1, 2, 3, then Cancel. */
function editChoices({ texts }: ShopServices, product: Product) {
  return [
    { title: texts.buttons.remove, payload: payloads.set(product.id, 0) },
    ...[1, 2, 3].map((n) => ({ title: String(n), payload: payloads.set(product.id, n) })),
    { title: texts.buttons.cancel, payload: payloads.cancel },
  ];
}

/** `set:<id>:<n>`. */
export const setFromPayload: Handler = (services, context, event) => {
  const intent = intentOf(services, event);
  return intent.kind === 'set' ? setLine(services, context, intent.id, intent.quantity) : {};
};

export const newQuantityAnswer: Check = (_services, _context, event) => typedQuantity(event, 0) !== undefined;

export const setPending: Handler = (services, context, event) =>
  setLine(services, context, context.pending, typedQuantity(event, 0) ?? 0);

export const newQuantityInvalid: Handler = (services, context) => {
  const product = context.pending === undefined ? undefined : services.catalog.get(context.pending);
  const text = services.texts.newQuantityInvalid(maxLineQuantity);
  return { replies: [textMessage(services, text, product ? editChoices(services, product) : menuChoices(services))] };
};

export const emptyCart: Handler = (services) => ({
  context: { cart: [], pending: undefined },
  replies: [textMessage(services, services.texts.cartEmptied, menuChoices(services))],
});

export const showCart: Handler = (services, context) => {
  const view = cartMessage(services, context.cart);
  return { context: { cart: view.cart, pending: undefined, greeted: true }, replies: [view.message] };
};

/** Checkout can start: the cart has products the catalog still sells. */
export const cartReady: Check = (services, context) => priceCart(context.cart, services.catalog).lines.length > 0;

/** A cart sent as one message (WhatsApp): its lines matched to the catalog by article, then id. */
function cartFromOrder(services: ShopServices, event: InboundEvent) {
  const unknown: string[] = [];
  const outOfStock: string[] = [];
  const limited: string[] = [];
  let cart: Cart = [];
  for (const item of event.type === 'cart_order' ? event.items : []) {
    const product = services.catalog.find(item.ref);
    if (!product) {
      unknown.push(item.ref);
    } else if (!isAvailable(product)) {
      outOfStock.push(product.title);
    } else {
      const wanted = (cart.find((line) => line.productId === product.id)?.quantity ?? 0) + item.quantity;
      const quantity = Math.min(wanted, limitOf(product));
      if (quantity < wanted) limited.push(product.title);
      cart = setQuantity(cart, product.id, quantity);
    }
  }
  return { cart, unknown, outOfStock, limited };
}

export const cartOrderUsable: Check = (services, _context, event) => cartFromOrder(services, event).cart.length > 0;

/** Replaces the cart with a sent cart and lists what could not be taken. */
export const takeCartOrder: Handler = (services, _context, event) => {
  const { texts } = services;
  const { cart, unknown, outOfStock, limited } = cartFromOrder(services, event);
  const notes = [
    ...(unknown.length > 0 ? [texts.cartOrderUnknown(unknown)] : []),
    ...(outOfStock.length > 0 ? [texts.cartOrderOutOfStock(outOfStock)] : []),
    ...(limited.length > 0 ? [texts.cartOrderLimited(limited)] : []),
  ];
  if (cart.length === 0) {
    const replies = [textMessage(services, [texts.cartOrderNothing, ...notes].join('\n'), menuChoices(services))];
    return { context: { greeted: true, pending: undefined }, replies };
  }
  const size = { count: cartCount(cart), subtotal: cartSize(services, cart).subtotal };
  return {
    context: { cart, greeted: true, pending: undefined },
    replies: [textMessage(services, [texts.cartOrderReceived(size.count, size.subtotal), ...notes].join('\n'))],
  };
};
