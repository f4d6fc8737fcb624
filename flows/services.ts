import type { Catalog } from '../src/commerce/catalog.js';
import type { Address } from '../src/core/ids.js';
import { defaultTexts, type Texts } from './messages.js';

/** What the shop's flows read: the catalog, the texts, what the channels can do. Pure, no I/O. */
export interface ShopServices {
  readonly catalog: Catalog;
  readonly texts: Texts;
  /** Whether the customer can pay in the chat (a channel with a payment provider). */
  readonly payInChat: (customer: Address) => boolean;
}

export interface ShopServiceOptions {
  /** Channels whose customers can pay in the chat: they get an invoice with their receipt. */
  readonly payInChat?: readonly string[];
}

/**
 * The services for `shopFlows`.
 * @example
 * const services = createShopServices(await loadCatalogFile('data/demo-catalog.json'));
 * const engine = createEngine({ store, flows: shopFlows, services });
 */
export function createShopServices(catalog: Catalog, texts: Texts = defaultTexts, options: ShopServiceOptions = {}): ShopServices {
  const paying = new Set(options.payInChat ?? []);
  return { catalog, texts, payInChat: (customer) => paying.has(customer.channel) };
}
