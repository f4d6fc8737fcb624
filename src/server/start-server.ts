import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Router } from 'express';
import { createShopServices, shopFlows, type Texts } from '../../flows/index.js';
import { createWebChannel } from '../channels/web/index.js';
import { loadCatalogFile } from '../commerce/index.js';
import { createEngine } from '../core/engine.js';
import type { Engine } from '../core/engine-types.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { createMemoryStore } from '../stores/memory.js';
import { openSqliteStore } from '../stores/sqlite.js';
import type { ChannelPlugin } from '../channels/plugin.js';
import { createMerchantApi } from '../api/router.js';
import type { PushTexts } from '../api/template-messages.js';
import type { PreCheckoutTexts } from '../channels/telegram/index.js';
import { createCrmNotifier, type CrmNotifier } from '../jobs/crm-notifier.js';
import { createApp } from './app.js';
import { createChannelPlugins } from './channel-plugins.js';
import { describeConfig, type Config, type DatabaseConfig } from './config.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createWebhookFastPath } from './webhook-receiver.js';
import { createWebhookRoutes } from './webhook-routes.js';

/** What `startServer` takes besides the configuration. */
export interface StartOptions {
  /** Where logs go; a pino logger at `config.logLevel` on stdout by default. */
  readonly logger?: Logger;
  /** More route modules, mounted before the error handler (see `createApp`). */
  readonly routes?: readonly Router[];
  /**
   * The words of the shop flow (`defaultTexts` of `orderly/flows`, in English by default):
   * pass a translation to sell in another language.
   */
  readonly texts?: Texts;
  /** Telegram's pre-checkout refusals (`defaultPreCheckoutTexts` of `orderly/telegram`). */
  readonly preCheckoutTexts?: PreCheckoutTexts;
  /** The merchant API's plain receipt and shipping lines, with their locale (`defaultPushTexts`). */
  readonly pushTexts?: PushTexts;
}

/** A server that `startServer` started. */
export interface RunningServer {
  /** Where the server answers, with the real port (`PORT=0` picks a free one). */
  readonly url: string;
  /** Stops accepting connections, drains the engine (up to `timeoutMs`), closes the store. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Opens the store `DATABASE_URL` names (PostgreSQL: migrated, shared by every instance on it).
 * @example const store = await openStore({ kind: 'memory' });
 */
export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return openSqliteStore(database.path, database.synchronous ? { synchronous: database.synchronous } : {});
    case 'postgres': {
      // Loaded only here: a server on SQLite never loads the pg driver.
      const { openPostgresStore } = await import('../stores/postgres.js');
      const { url, poolSize, statementTimeoutMs, schema } = database;
      return openPostgresStore(url, {
        ...(poolSize === undefined ? {} : { poolSize }),
        ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }),
        ...(schema === undefined ? {} : { schema }),
      });
    }
  }
}

/**
 * The composition root: opens the store, loads the catalog, builds the engine with the shop's
 * flows, the web channel and the platform channels the configuration switches on (their
 * webhooks at `/webhooks/<name>`), the CRM notifier when `CRM_URL` is set, mounts the
 * merchant API at `/api`, starts it, and listens on `HOST:PORT`.
 * @example
 * const server = await startServer(loadConfig(process.env));
 * console.log(server.url);
 * await server.close();
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const catalog = await loadCatalogFile(config.catalogFile);
  const store = await openStore(config.database);
  let storeOpen = true;
  const web = createWebChannel({ store, account: config.webAccount });
  const metrics = createMetrics();
  let engine: Engine | undefined;
  let plugins: ChannelPlugin[] = [];
  const { crm, retry } = config;
  // Without CRM_URL no handler is set: notifications are recorded failed, and the
  // retryNotifications method sends them once a CRM is configured.
  const notifier: CrmNotifier | undefined = crm.url
    ? createCrmNotifier(
        { url: crm.url, method: crm.method, timeoutMs: crm.timeoutMs, ...(crm.secret ? { secret: crm.secret } : {}) },
        { store, logger },
      )
    : undefined;
  let server: Server;
  try {
    plugins = createChannelPlugins(
      config,
      { store, logger, ignored: metrics.ignored },
      options.preCheckoutTexts ? { preCheckoutTexts: options.preCheckoutTexts } : {},
    );
    const started = createEngine({
      store,
      flows: shopFlows,
      services: createShopServices(catalog, options.texts, {
        payInChat: plugins.filter((plugin) => plugin.payments).map((plugin) => plugin.channel.name),
      }),
      channels: [web.channel, ...plugins.map((plugin) => plugin.channel)],
      logger,
      observer: metrics.observer,
      instanceId: randomUUID().slice(0, 8),
      leaseMs: config.leaseTimeoutMs,
      ...(config.retentionDays > 0 ? { retention: { keepMs: config.retentionDays * 86_400_000 } } : {}),
      ...(notifier ? { handlers: { notify_crm: notifier } } : {}),
      maxAttempts: { notify_crm: crm.maxAttempts },
      baseBackoffMs: retry.baseMs,
      maxBackoffMs: retry.maxMs,
    });
    engine = started;
    await started.start();
    // Updates a channel pulls come from the platform: an odd one is skipped, not retried forever.
    for (const plugin of plugins) await plugin.start?.((events) => started.ingest(events, { invalid: 'skip' }));
    const webhooks = plugins.flatMap((plugin) => (plugin.webhook ? [plugin.webhook] : []));
    const merchantApi = createMerchantApi({
      engine: started,
      tokens: config.merchantTokens,
      rateLimit: config.api.rateLimit,
      channels: [...plugins.map((plugin) => plugin.channel.name), web.channel.name],
      logger,
      ...(options.pushTexts ? { pushTexts: options.pushTexts } : {}),
    });
    const app = createApp({
      engine: started,
      logger,
      metrics,
      web,
      storeOpen: () => storeOpen,
      // The merchant API checks the token before it reads the body, so it parses its own.
      rawRoutes: [merchantApi, ...(webhooks.length > 0 ? [createWebhookRoutes({ webhooks, engine: started })] : [])],
      routes: options.routes ?? [],
    });
    // Customer messages skip express: their path is the hot one (see webhook-receiver.ts).
    const fast = createWebhookFastPath({ webhooks, engine: started, logger, bodyLimit: webhookBodyLimit });
    server = await listen((req, res) => fast(req, res) || app(req, res), config.host, config.port);
  } catch (error) {
    web.close();
    await Promise.allSettled(plugins.map((plugin) => plugin.stop?.()));
    await engine?.stop({ timeoutMs: 1_000 });
    await Promise.allSettled(plugins.map((plugin) => plugin.close?.()));
    await notifier?.close();
    await store.close();
    throw error;
  }

  const running = engine;
  const url = urlOf(server.address() as AddressInfo);
  logger.info({ url, instanceId: running.instanceId, ...describeConfig(config) }, 'listening');

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
        // Sends of the drain went out on these connections: they are freed only now.
        await Promise.allSettled(plugins.map((plugin) => plugin.close?.()));
        await notifier?.close();
        storeOpen = false;
        await store.close();
        logger.info({ url }, 'closed');
      })();
      return closing;
    },
  };
}

/** The webhook body limit, as express's JSON limit (256 kB). */
const webhookBodyLimit = 256 * 1024;

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
