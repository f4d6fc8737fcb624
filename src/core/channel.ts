import type { InboundEventInput } from './events.js';
import type { Address } from './ids.js';
import type { OutboundMessage } from './outbound.js';

/** What the dispatcher tells a channel about the message it sends. */
export interface SendContext {
  /** The outbox row: stable across retries, usable as an idempotency key. */
  readonly outboxId: number;
  /** 0 on the first try. */
  readonly attempt: number;
  /**
   * When the customer last wrote to the shop (ms since the epoch), when known: channels
   * with a messaging window (Messenger, WhatsApp: 24 hours) choose how to send by it.
   */
  readonly lastInboundAt?: number;
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

/** A webhook request as the server hands it to a channel: the raw bytes, before any parsing. */
export interface WebhookRequest {
  readonly rawBody: Uint8Array;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a webhook body turned into: events to ingest, and how many entries were not understood. */
export interface ParsedWebhook {
  readonly events: InboundEventInput[];
  /** Entries of kinds the channel does not handle: counted and acknowledged, never an error. */
  readonly ignored: number;
}

/**
 * The inbound half of a webhook channel (Messenger, WhatsApp): the server mounts
 * `GET` and `POST /webhooks/<name>` for it, checks `verify` over the raw bytes before it
 * parses anything (401 and nothing stored when it fails), then `parse`s and ingests.
 */
export interface WebhookChannel {
  readonly name: string;
  /** The GET subscription check: the text to answer (`hub.challenge`), or null for 403. */
  verifyChallenge(query: Readonly<Record<string, unknown>>): string | null;
  verify(request: WebhookRequest): boolean;
  parse(body: unknown, now: number): ParsedWebhook;
  /** The body of the 200 answer (Messenger expects `EVENT_RECEIVED`). */
  readonly ack: string;
}
