/**
 * `orderly/server`: the composition root and the pieces it is built from, for embedders
 * who want the server's config, logging, metrics or express app around their own engine.
 */
export { createApp, type AppOptions } from './app.js';
export { ConfigError, demoCatalogFile, describeConfig, loadConfig, type Config, type DatabaseConfig, type LogLevel } from './config.js';
export { createErrorHandler, describeError, notFoundHandler, type ErrorBody } from './errors.js';
export { exposesMessage, httpStatusByCode, httpStatusOf } from './http-status.js';
export { createLogger, loggablePath, maskPhone, redactPaths, type LoggerOptions, type PinoLogger } from './logger.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { openStore, startServer, type RunningServer, type StartOptions } from './start-server.js';
export { createWebRoutes, type WebLogEntry, type WebRoutesOptions } from './web-routes.js';
export { createWebhookRoutes, type WebhookRoutesOptions } from './webhook-routes.js';
export { createChannelPlugins, type ChannelPluginOptions } from './channel-plugins.js';
export {
  createMerchantApi,
  defaultPushTexts,
  merchantMethods,
  merchantOpenApi,
  type MerchantApiOptions,
  type OpenApiDocument,
  type PushTexts,
} from '../api/index.js';
export { createCrmNotifier, type CrmNotifier, type CrmNotifierConfig, type CrmNotifierDeps } from '../jobs/index.js';
