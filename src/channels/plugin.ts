import type { Channel, WebhookChannel } from '../core/channel.js';
import type { IngestResult } from '../core/engine-types.js';
import type { InboundEventInput } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';

/** What a channel's factory gets from the composition root. */
export interface ChannelDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** Counts webhook entries the channel did not understand (`/metrics`). */
  readonly ignored?: (channel: string, count: number) => void;
}

/**
 * A configured channel as the server runs it: the outbound `channel`, the `webhook` the
 * server mounts at `/webhooks/<name>` (when the channel takes webhooks), and a lifecycle
 * for channels that pull their updates (Telegram long polling).
 * @example
 * const plugin = createMessengerPlugin(config, deps);
 * createEngine({ ..., channels: [plugin.channel] });
 */
export interface ChannelPlugin {
  readonly channel: Channel;
  readonly webhook?: WebhookChannel;
  /** Customers can pay in the chat: an `invoice` message becomes a real bill. */
  readonly payments?: boolean;
  /** Starts pulling updates (after the engine started); each batch is ingested before it is confirmed. */
  start?(ingest: (events: readonly InboundEventInput[]) => Promise<IngestResult>): Promise<void>;
  stop?(): Promise<void>;
}
