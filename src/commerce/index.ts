/** The commerce model: catalog, money, cart pricing, orders and their statuses, receipts. */
export * from './catalog.js';
export * from './cart.js';
export * from './csv.js';
export * from './mobile.js';
export * from './money.js';
export * from './order.js';
export * from './product.js';
export * from './receipt.js';
export { foldText, words, type SearchOptions } from './search.js';
