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
 * server mounts at `/webhooks/<name>` (when the channel takes webhooks), and a lifecycle:
 * `start` and `stop` for channels that pull their updates (Telegram long polling), `close`
 * once the engine has stopped, for what its sends use.
 * @example
 * const plugin = createMessengerPlugin(config, deps);
 * const engine = createEngine({ ..., channels: [plugin.channel] });
 * // shutting down
 * await plugin.stop?.();
 * await engine.stop();
 * await plugin.close?.();
 */
export interface ChannelPlugin {
  readonly channel: Channel;
  readonly webhook?: WebhookChannel;
  /** Customers can pay in the chat: an `invoice` message becomes a real bill. */
  readonly payments?: boolean;
  /** Starts pulling updates (after the engine started); each batch is ingested before it is confirmed. */
  start?(ingest: (events: readonly InboundEventInput[]) => Promise<IngestResult>): Promise<void>;
  /** Stops pulling updates (before the engine drains): what was taken is stored already. */
  stop?(): Promise<void>;
  /** Frees what sending holds (connections, the HTTP thread's share), once the engine has stopped sending. */
  close?(): Promise<void>;
}
