import type { Catalog } from './catalog.js';
import type { Product } from './product.js';
import { addMoney, multiplyMoney } from './money.js';

/** One product in a cart. */
export interface CartLine {
  readonly productId: string;
  readonly quantity: number;
}

/** A cart: lines in the order they were first added, one line per product. */
export type Cart = readonly CartLine[];

/** How an order reaches the customer. */
export type Delivery = 'pickup' | 'shipping';

/** The most of one product a cart line holds. */
export const maxLineQuantity = 99;

/** The shop's pricing rules, in minor units of the catalog's currency. */
export interface PricingRules {
  /** The flat shipping fee. */
  readonly shippingFee: number;
  /** Shipping is free when the cart, after discounts, costs at least this. */
  readonly freeShippingFrom: number;
}

/** The pricing rules in one place: shipping €4.90, free from €50.00 (pickup is always free). */
export const pricingRules: PricingRules = { shippingFee: 490, freeShippingFrom: 5_000 };

/**
 * Adds a quantity of a product: to its line when there is one (capped at `maxLineQuantity`).
 * @example addToCart([], 'eth-250', 2) // [{ productId: 'eth-250', quantity: 2 }]
 */
export function addToCart(cart: Cart, productId: string, quantity: number): Cart {
  assertQuantity(quantity, 1);
  const line = cart.find((item) => item.productId === productId);
  if (!line) return [...cart, { productId, quantity: Math.min(quantity, maxLineQuantity) }];
  return setQuantity(cart, productId, Math.min(line.quantity + quantity, maxLineQuantity));
}

/** Sets a product's quantity; 0 removes its line. A product not in the cart is added. */
export function setQuantity(cart: Cart, productId: string, quantity: number): Cart {
  assertQuantity(quantity, 0);
  if (quantity === 0) return removeFromCart(cart, productId);
  const capped = Math.min(quantity, maxLineQuantity);
  if (!cart.some((item) => item.productId === productId)) return [...cart, { productId, quantity: capped }];
  return cart.map((item) => (item.productId === productId ? { productId, quantity: capped } : item));
}

/** Removes a product's line. */
export function removeFromCart(cart: Cart, productId: string): Cart {
  return cart.filter((item) => item.productId !== productId);
}

/** How many items a cart holds, all lines together. */
export function cartCount(cart: Cart): number {
  return cart.reduce((count, item) => count + item.quantity, 0);
}

/** A priced cart line; amounts in minor units. */
export interface PricedLine {
  readonly product: Product;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly discount: number;
  /** `unitPrice × quantity − discount`. */
  readonly total: number;
}

/** A priced cart; every amount is an integer in minor units of `currency`. */
export interface PricedCart {
  readonly lines: readonly PricedLine[];
  /** Ids of cart lines whose product is no longer in the catalog (left out of the sums). */
  readonly missing: readonly string[];
  /** The lines before discounts. */
  readonly subtotal: number;
  readonly discount: number;
  /** The delivery cost (0 for pickup, and while no delivery is chosen). */
  readonly deliveryCost: number;
  /** `subtotal − discount + deliveryCost`. */
  readonly total: number;
  readonly currency: string;
  readonly delivery?: Delivery;
}

/**
 * Prices a cart against the catalog: line totals, subtotal, discount, delivery cost and total.
 * Shipping costs `rules.shippingFee` unless the discounted cart reaches `rules.freeShippingFrom`.
 * @example priceCart([{ productId: 'eth-250', quantity: 2 }], catalog, { delivery: 'shipping' }).total
 */
export function priceCart(
  cart: Cart,
  catalog: Catalog,
  options: { delivery?: Delivery; rules?: PricingRules } = {},
): PricedCart {
  const rules = options.rules ?? pricingRules;
  const lines: PricedLine[] = [];
  const missing: string[] = [];
  for (const item of cart) {
    const product = catalog.get(item.productId);
    if (!product) {
      missing.push(item.productId);
      continue;
    }
    const gross = multiplyMoney(product.price, item.quantity);
    const discount = 0;
    lines.push({ product, quantity: item.quantity, unitPrice: product.price, discount, total: addMoney(gross, -discount) });
  }
  const subtotal = addMoney(...lines.map((line) => multiplyMoney(line.unitPrice, line.quantity)));
  const discount = addMoney(...lines.map((line) => line.discount));
  const goods = addMoney(subtotal, -discount);
  const deliveryCost =
    options.delivery === 'shipping' && lines.length > 0 && goods < rules.freeShippingFrom ? rules.shippingFee : 0;
  return {
    lines,
    missing,
    subtotal,
    discount,
    deliveryCost,
    total: addMoney(goods, deliveryCost),
    currency: catalog.currency,
    ...(options.delivery ? { delivery: options.delivery } : {}),
  };
}

function assertQuantity(quantity: number, min: number): void {
  if (!Number.isSafeInteger(quantity) || quantity < min) {
    throw new RangeError(`a quantity is a whole number of at least ${min}, not ${quantity}`);
  }
}
