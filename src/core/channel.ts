import type { Address } from './ids.js';
import type { OutboundMessage } from './outbound.js';

/** What the dispatcher tells a channel about the message it sends. */
export interface SendContext {
  /** The outbox row: stable across retries, usable as an idempotency key. */
  readonly outboxId: number;
  /** 0 on the first try. */
  readonly attempt: number;
}

export interface SendResult {
  /** The platform's id for the message, so status webhooks can update the message log. */
  readonly platformId?: string;
}

/**
 * The outbound half of a channel, which is all the engine needs. Inbound (verify, parse)
 * is the HTTP side and lives with the server. `send` throws a `DeliveryError` to say
 * whether to retry; anything else thrown is retried as a fault.
 * @example
 * const console: Channel = { name: 'web', async send(to, message) { return { platformId: '1' }; } };
 */
export interface Channel {
  readonly name: string;
  send(to: Address, message: OutboundMessage, context: SendContext): Promise<SendResult>;
}
