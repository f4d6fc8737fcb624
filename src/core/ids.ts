/** A string or number that the type system keeps apart from others of its kind. */
export type Brand<T, B extends string> = T & { readonly __brand: B };

/**
 * The key of an actor: `<kind>:<rest>`. Events for one key are processed strictly one at a
 * time, in arrival order. `conv:<channel>:<account>:<user>` is a customer's conversation,
 * `order:<id>` an order's lifecycle.
 */
export type ActorKey = Brand<string, 'ActorKey'>;

/** An order's id, assigned by the store when the order is created. */
export type OrderId = Brand<number, 'OrderId'>;

/** Where a customer is: the channel, the shop's account on it (page, phone number, bot) and the user. */
export interface Address {
  readonly channel: string;
  readonly account: string;
  readonly user: string;
}

/**
 * The conversation key of a customer.
 * @example conversationKey({ channel: 'web', account: 'shop', user: 'u1' }) // 'conv:web:shop:u1'
 */
export function conversationKey(address: Address): ActorKey {
  return `conv:${address.channel}:${address.account}:${address.user}` as ActorKey;
}

/** The actor key of an order's lifecycle. */
export function orderKey(id: OrderId | number): ActorKey {
  return `order:${id}` as ActorKey;
}

/** The kind of an actor key: what comes before the first colon. */
export function keyKind(key: ActorKey | string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}
