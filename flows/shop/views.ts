import { cartCount, priceCart, pricingRules, type Cart } from '../../src/commerce/cart.js';
import { formatMoney } from '../../src/commerce/money.js';
import { isAvailable, type Product } from '../../src/commerce/product.js';
import type { Choice, OutboundMessage, ProductCard } from '../../src/core/outbound.js';
import type { ShopServices } from '../services.js';
import type { CustomerOrder } from './context.js';
import { payloads } from './input.js';

/** The most product cards in one message (channels show about ten). */
export const maxCards = 10;

/** Lines of a cart the "Edit" choices are offered for. */
const maxEditChoices = 5;

/** An amount in the catalog's currency, for the customer. */
export function money({ catalog, texts }: ShopServices, minor: number, currency = catalog.currency): string {
  return formatMoney(minor, currency, texts.locale);
}

/** A text message with choices under it, and the shop's title for the button that lists them. */
export function textMessage({ texts }: ShopServices, text: string, quickReplies: readonly Choice[] = []): OutboundMessage {
  return {
    kind: 'text',
    text,
    ...(quickReplies.length > 0 ? { quickReplies: [...quickReplies], choicesTitle: texts.buttons.choose } : {}),
  };
}

/** The main menu's choices. */
export function menuChoices({ texts }: ShopServices): Choice[] {
  const { buttons } = texts;
  return [
    { title: buttons.browse, payload: payloads.browse },
    { title: buttons.search, payload: payloads.search },
    { title: buttons.cart, payload: payloads.cart },
    { title: buttons.orders, payload: payloads.orders },
    { title: buttons.help, payload: payloads.help },
  ];
}

/** Choices to go on shopping from anywhere. */
export function shoppingChoices({ texts }: ShopServices, cart: Cart): Choice[] {
  const { buttons } = texts;
  return [
    ...(cart.length > 0 ? [{ title: buttons.checkout, payload: payloads.checkout }] : []),
    { title: buttons.cart, payload: payloads.cart },
    { title: buttons.keepShopping, payload: payloads.browse },
    { title: buttons.menu, payload: payloads.menu },
  ];
}

/** The help, optionally after a sentence such as "Sorry, I didn't catch that." */
export function helpMessage(services: ShopServices, before?: string): OutboundMessage {
  const { help } = services.texts;
  return textMessage(services, before ? `${before}\n\n${help}` : help, menuChoices(services));
}

/** A product's card: "Add to cart" when it can be bought, "Details" in lists. */
export function productCard(services: ShopServices, product: Product, inList: boolean): ProductCard {
  const { buttons } = services.texts;
  const available = isAvailable(product);
  return {
    id: product.id,
    article: product.article,
    title: product.title,
    description: product.description,
    price: product.price,
    currency: product.currency,
    priceText: money(services, product.price, product.currency),
    imageUrl: product.image_url,
    available,
    buttons: [
      ...(available ? [{ title: buttons.addToCart, payload: payloads.add(product.id) }] : []),
      ...(inList ? [{ title: buttons.details, payload: payloads.product(product.id) }] : []),
    ],
  };
}

/** Up to `maxCards` products as cards, with a text and choices. */
export function productsMessage(
  services: ShopServices,
  products: readonly Product[],
  text: string,
  quickReplies: readonly Choice[],
): OutboundMessage {
  return {
    kind: 'products',
    text,
    products: products.slice(0, maxCards).map((product) => productCard(services, product, true)),
    quickReplies: [...quickReplies],
    choicesTitle: services.texts.buttons.choose,
  };
}

/** One product, answered with its card: title, price, description, availability, "Add to cart". */
export function productMessage(services: ShopServices, product: Product, cart: Cart): OutboundMessage {
  const { texts } = services;
  const card = productCard(services, product, false);
  return {
    kind: 'products',
    text: texts.productDetails(product.title, card.priceText, product.description, card.available),
    products: [card],
    quickReplies: shoppingChoices(services, cart),
    choicesTitle: texts.buttons.choose,
  };
}

/** The categories to browse, as choices. */
export function categoriesMessage(services: ShopServices): OutboundMessage {
  const { catalog, texts } = services;
  const names = catalog.categories();
  if (names.length === 0) return textMessage(services, texts.noCategories, menuChoices(services));
  const choices = names.map((name) => ({ title: name, payload: payloads.category(name) }));
  if (catalog.byCategory('').length > 0) choices.push({ title: texts.buttons.otherCategory, payload: payloads.category('') });
  choices.push({ title: texts.buttons.search, payload: payloads.search }, { title: texts.buttons.menu, payload: payloads.menu });
  return textMessage(services, texts.pickCategory, choices);
}

/**
 * The cart with its lines, subtotal and delivery terms, and what can be done with it.
 * Lines whose product left the catalog are dropped: `cart` is what remains.
 */
export function cartMessage(services: ShopServices, cart: Cart): { message: OutboundMessage; cart: Cart } {
  const { catalog, texts } = services;
  const kept = cart.filter((line) => catalog.get(line.productId));
  if (kept.length === 0) {
    return { cart: kept, message: textMessage(services, texts.cartEmpty, menuChoices(services)) };
  }
  const priced = priceCart(kept, catalog);
  const { buttons } = texts;
  const text = [
    texts.cartTitle,
    ...priced.lines.map((line) => texts.cartLine(line.quantity, line.product.title, money(services, line.total))),
    texts.cartSubtotal(money(services, priced.subtotal)),
    texts.deliveryNote(money(services, pricingRules.shippingFee), money(services, pricingRules.freeShippingFrom)),
  ].join('\n');
  const choices: Choice[] = [
    { title: buttons.checkout, payload: payloads.checkout },
    ...priced.lines
      .slice(0, maxEditChoices)
      .map((line) => ({ title: buttons.edit(line.product.title), payload: payloads.edit(line.product.id) })),
    { title: buttons.emptyCart, payload: payloads.empty },
    { title: buttons.keepShopping, payload: payloads.browse },
    { title: buttons.menu, payload: payloads.menu },
  ];
  return { cart: kept, message: textMessage(services, text, choices) };
}

/** A short line about the cart: "3 items, €36.50". */
export function cartSize(services: ShopServices, cart: Cart): { count: number; subtotal: string } {
  return { count: cartCount(cart), subtotal: money(services, priceCart(cart, services.catalog).subtotal) };
}

/** The customer's orders with their status, newest first. */
export function ordersMessage(services: ShopServices, orders: readonly CustomerOrder[]): OutboundMessage {
  const { texts } = services;
  const choices = [
    { title: texts.buttons.browse, payload: payloads.browse },
    { title: texts.buttons.cart, payload: payloads.cart },
    { title: texts.buttons.menu, payload: payloads.menu },
  ];
  if (orders.length === 0) return textMessage(services, texts.noOrders, choices);
  const lines = [...orders].reverse().map((order) =>
    texts.orderLine(
      order.orderId,
      texts.statusNames[order.status] ?? String(order.status),
      order.total === undefined ? undefined : money(services, order.total, order.currency),
      order.paid,
    ),
  );
  return textMessage(services, [texts.ordersTitle, ...lines].join('\n'), choices);
}
