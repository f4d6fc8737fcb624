import type { Catalog } from '../src/commerce/catalog.js';
import { defaultTexts, type Texts } from './messages.js';

/** What the shop's flows read: the catalog and the texts. Pure data, no I/O. */
export interface ShopServices {
  readonly catalog: Catalog;
  readonly texts: Texts;
}

/**
 * The services for `shopFlows`.
 * @example
 * const services = createShopServices(await loadCatalogFile('data/demo-catalog.json'));
 * const engine = createEngine({ store, flows: shopFlows, services });
 */
export function createShopServices(catalog: Catalog, texts: Texts = defaultTexts): ShopServices {
  return { catalog, texts };
}
