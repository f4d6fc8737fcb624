import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Router } from 'express';
import { createShopServices, shopFlows } from '../../flows/index.js';
import { createWebChannel } from '../channels/web/index.js';
import { loadCatalogFile } from '../commerce/index.js';
import { createEngine } from '../core/engine.js';
import type { Engine } from '../core/engine-types.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { createMemoryStore } from '../stores/memory.js';
import { openSqliteStore } from '../stores/sqlite.js';
import type { ChannelPlugin } from '../channels/plugin.js';
import { createApp } from './app.js';
import { createChannelPlugins } from './channel-plugins.js';
import { ConfigError, describeConfig, type Config, type DatabaseConfig } from './config.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createWebhookRoutes } from './webhook-routes.js';

/** What `startServer` takes besides the configuration. */
export interface StartOptions {
  /** Where logs go; a pino logger at `config.logLevel` on stdout by default. */
  readonly logger?: Logger;
  /** More route modules, mounted before the error handler (see `createApp`). */
  readonly routes?: readonly Router[];
}

/** A server that `startServer` started. */
export interface RunningServer {
  /** Where the server answers, with the real port (`PORT=0` picks a free one). */
  readonly url: string;
  /** Stops accepting connections, drains the engine (up to `timeoutMs`), closes the store. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Opens the store `DATABASE_URL` names. PostgreSQL is refused for now, in one line.
 * @example const store = await openStore({ kind: 'memory' });
 */
export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return openSqliteStore(database.path);
    case 'postgres':
      throw new ConfigError('DATABASE_URL', 'the PostgreSQL store is not available yet (DATABASE_URL=postgres…)');
  }
}

/**
 * The composition root: opens the store, loads the catalog, builds the engine with the shop's
 * flows, the web channel and the platform channels the configuration switches on (their
 * webhooks at `/webhooks/<name>`), starts it, and listens on `HOST:PORT`.
 * @example
 * const server = await startServer(loadConfig(process.env));
 * console.log(server.url);
 * await server.close();
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  if (config.database.kind === 'postgres') await openStore(config.database);
  const catalog = await loadCatalogFile(config.catalogFile);
  const store = await openStore(config.database);
  let storeOpen = true;
  const web = createWebChannel({ store, account: config.webAccount });
  const metrics = createMetrics();
  let engine: Engine | undefined;
  let plugins: ChannelPlugin[] = [];
  let server: Server;
  try {
    plugins = createChannelPlugins(config, { store, logger, ignored: metrics.ignored });
    const started = createEngine({
      store,
      flows: shopFlows,
      services: createShopServices(catalog, undefined, {
        payInChat: plugins.filter((plugin) => plugin.payments).map((plugin) => plugin.channel.name),
      }),
      channels: [web.channel, ...plugins.map((plugin) => plugin.channel)],
      logger,
      observer: metrics.observer,
    });
    engine = started;
    await started.start();
    for (const plugin of plugins) await plugin.start?.((events) => started.ingest(events));
    const webhooks = plugins.flatMap((plugin) => (plugin.webhook ? [plugin.webhook] : []));
    const app = createApp({
      engine: started,
      logger,
      metrics,
      web,
      storeOpen: () => storeOpen,
      rawRoutes: webhooks.length > 0 ? [createWebhookRoutes({ webhooks, engine: started })] : [],
      routes: options.routes ?? [],
    });
    server = await listen(app, config.host, config.port);
  } catch (error) {
    web.close();
    await Promise.allSettled(plugins.map((plugin) => plugin.stop?.()));
    await engine?.stop({ timeoutMs: 1_000 });
    await store.close();
    throw error;
  }

  const running = engine;
  const url = urlOf(server.address() as AddressInfo);
  logger.info({ url, ...describeConfig(config) }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        web.close();
        // Pulling channels stop taking updates first: what they took is stored already.
        await Promise.allSettled(plugins.map((plugin) => plugin.stop?.()));
        // Connections whose last request just ended are closed as soon as they are idle.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.closeIdleConnections();
        try {
          await running.stop({ timeoutMs });
          // Requests still open after the drain are cut: the store is about to close under them.
          const late = setTimeout(() => server.closeAllConnections(), 1_000);
          await closed;
          clearTimeout(late);
        } finally {
          clearInterval(sweep);
        }
        storeOpen = false;
        await store.close();
        logger.info({ url }, 'closed');
      })();
      return closing;
    },
  };
}

function listen(listener: RequestListener, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** A URL a client can connect to: the wildcard addresses become loopback. */
function urlOf(address: AddressInfo): string {
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
