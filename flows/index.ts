import type { FlowDefinition } from '../src/core/flow.js';
import { orderFlow } from './order.js';
import { ratingFlow } from './rating.js';
import type { ShopServices } from './services.js';
import { shopFlow } from './shop.js';

export { orderFlow, orderTransition } from './order.js';
export { shopFlow } from './shop.js';
export { ratingFlow } from './rating.js';
export { createShopServices, type ShopServices } from './services.js';
export { defaultTexts, texts, type Texts } from './messages.js';

/**
 * The shop's flows, for `createEngine({ flows: shopFlows, services })`. A plain array: add
 * your own flow to it (one flow per actor kind).
 */
export const shopFlows: FlowDefinition<ShopServices>[] = [shopFlow, orderFlow, ratingFlow];
