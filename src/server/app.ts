import express, { type Express, type RequestHandler, type Router } from 'express';
import type { WebChannel } from '../channels/web/index.js';
import type { Engine } from '../core/engine-types.js';
import type { Logger } from '../core/logger.js';
import { createErrorHandler, notFoundHandler } from './errors.js';
import { requestIdOf } from './request-id.js';
import { loggablePath } from './logger.js';
import type { Metrics } from './metrics.js';
import { createWebRoutes } from './web-routes.js';

/** What `createApp` serves: the engine, its observability, and the route modules. */
export interface AppOptions {
  readonly engine: Engine;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The web channel; its `/web/v1` routes are mounted when given. */
  readonly web?: WebChannel;
  /**
   * Route modules of later work (channel webhooks, the merchant API), mounted after the
   * built-in routes and before the 404 and error handlers. Their handlers see the parsed
   * JSON body as `req.body`.
   */
  readonly routes?: readonly Router[];
  /** Route modules that read their own raw bodies (webhooks: the signature comes before parsing). */
  readonly rawRoutes?: readonly Router[];
  /** The JSON body limit (bytes, or a string such as `'256kb'`); larger bodies answer 413. */
  readonly bodyLimit?: number | string;
  /** False once the composition root has closed the store: /healthz then answers 503. */
  readonly storeOpen?: () => boolean;
}


/** Logs each finished request with its id: failures at warn, refusals at info, successes at debug. */
function requestLog(logger: Logger): RequestHandler {
  const debugEnabled = (): boolean => {
    const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
    return check ? check.call(logger, 'debug') : true;
  };
  return (req, res, next) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const started = performance.now();
    res.once('finish', () => {
      const status = res.statusCode;
      if (status < 400 && !debugEnabled()) return;
      const line = {
        requestId,
        method: req.method,
        path: loggablePath(req.path),
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      // A fault's error is logged once, by the error handler; this line is the request's.
      if (status >= 500) logger.warn(line, 'request');
      else if (status >= 400) logger.info(line, 'request');
      else logger.debug(line, 'request');
    });
    next();
  };
}

/**
 * The express app: `/healthz`, `/metrics`, the web channel's routes, any later route
 * modules, then the 404 and error handlers. JSON bodies are parsed up to `bodyLimit` (256kb);
 * raw routes (webhooks) come before that parsing and read their own bytes. Every response carries an `x-request-id`.
 * @example
 * const app = createApp({ engine, logger, metrics, web });
 * app.listen(3000);
 */
export function createApp(options: AppOptions): Express {
  const { engine, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use(requestLog(logger));

  app.get('/healthz', async (_req, res) => {
    const channels = engine.unhealthyChannels();
    const storeOk = (options.storeOpen?.() ?? true) && (await storeAnswers(engine));
    res.set('cache-control', 'no-store');
    if (channels.length === 0 && storeOk) {
      res.json({ status: 'ok' });
      return;
    }
    res.status(503).json({
      status: 'unhealthy',
      ...(channels.length > 0 ? { channels } : {}),
      ...(storeOk ? {} : { store: 'unavailable' }),
    });
  });

  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.set('content-type', contentType).send(body);
  });

  for (const router of options.rawRoutes ?? []) app.use(router);

  app.use(
    express.json({ limit: options.bodyLimit ?? '256kb' }),
  );

  if (options.web) app.use(createWebRoutes({ engine, web: options.web }));
  for (const router of options.routes ?? []) app.use(router);

  app.use(notFoundHandler);
  app.use(createErrorHandler(logger));
  return app;
}

/** How long /healthz waits for the store: a database that does not answer is unhealthy, not a hang. */
const storeProbeMs = 1_500;

/** A cheap read: a closed or broken store throws, a silent one times out. */
async function storeAnswers(engine: Engine): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, storeProbeMs, false);
  });
  try {
    return await Promise.race([engine.store.getOutbox(0).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
