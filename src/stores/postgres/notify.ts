import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';
import type { ActorKey } from '../../core/ids.js';
import type { StoreNotice } from '../../core/store.js';
import { quoteIdent } from './migrate.js';

/**
 * One dedicated connection per store that LISTENs on the schema's channel and hands each
 * notification to the watchers. When the connection drops it reconnects (backing off up to
 * five seconds) and tells the watchers `resync`: notifications sent meanwhile are lost.
 * @example
 * const listener = new NotifyListener(config, 'orderly:public');
 * const stop = listener.watch((notice) => console.log(notice));
 */
export class NotifyListener {
  readonly #watchers = new Set<(notice: StoreNotice) => void>();
  #client?: pg.Client;
  #connecting?: Promise<void>;
  #timer?: NodeJS.Timeout;
  #delay = 100;
  #closed = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
  ) {}

  watch(listener: (notice: StoreNotice) => void): () => void {
    this.#watchers.add(listener);
    if (!this.#client && !this.#connecting) void this.#connect(false);
    return () => {
      this.#watchers.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #connect(again: boolean): Promise<void> {
    this.#connecting = (async () => {
      const client = new pg.Client(this.config);
      client.on('error', () => this.#lost(client));
      client.on('end', () => this.#lost(client));
      client.on('notification', (message: Notification) => this.#notify(message.payload));
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdent(this.channel)}`);
      } catch {
        await client.end().catch(() => undefined);
        this.#retry();
        return;
      }
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#delay = 100;
      if (again) this.#send({ topic: 'resync' });
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) void this.#connect(true);
    }, this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, 5_000);
  }

  #notify(payload: string | undefined): void {
    const notice = parseNotice(payload ?? '');
    if (notice) this.#send(notice);
  }

  #send(notice: StoreNotice): void {
    for (const watcher of this.#watchers) watcher(notice);
  }
}

/** `<topic>|<from>|<name>` (topics `i`, `o`, `t`; from and name may be empty) as a notice. */
export function parseNotice(payload: string): StoreNotice | undefined {
  const bar = payload.indexOf('|', 2);
  if (payload[1] !== '|' || bar < 0) return undefined;
  const from = payload.slice(2, bar);
  const name = payload.slice(bar + 1);
  const sender = from ? { from } : {};
  switch (payload[0]) {
    case 'i':
      return { topic: 'inbox', ...sender, ...(name ? { key: name as ActorKey } : {}) };
    case 'o':
      return { topic: 'outbox', ...sender, ...(name ? { lane: name } : {}) };
    case 't': {
      const at = Number(name);
      return name && Number.isFinite(at) ? { topic: 'tasks', at } : { topic: 'tasks' };
    }
    default:
      return undefined;
  }
}
