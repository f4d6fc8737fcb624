import express, { type Request, type Response, type Router } from 'express';
import type { Engine } from '../core/engine-types.js';
import { EngineError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { createTokenCheck, presentedToken, type Caller } from './auth.js';
import { methodFailure, success, templateFailure } from './envelope.js';
import { createKeyedLock } from './keyed-lock.js';
import type { ApiMethod, MethodContext } from './method.js';
import { merchantMethods } from './methods/index.js';
import { merchantOpenApi, type OpenApiDocument } from './openapi.js';
import { createRateLimiter } from './rate-limit.js';
import { pushRequestId, sendTemplate } from './send-template.js';
import { defaultPushTexts, type PushTexts } from './template-messages.js';

/** What the merchant API serves and how it guards it. */
export interface MerchantApiOptions {
  readonly engine: Engine;
  /** `MERCHANT_TOKEN`: the tokens accepted; none, and every call answers 401. */
  readonly tokens: readonly string[];
  /** Requests per minute per token (`API_RATE_LIMIT`); 600 by default. */
  readonly rateLimit?: number;
  /** The channels `send_template` looks for its recipient in, in this order. */
  readonly channels?: readonly string[];
  readonly logger?: Logger;
  /** Milliseconds since the epoch; tests drive it. */
  readonly clock?: () => number;
  /** The JSON body limit (bytes, or a string such as `'256kb'`); larger bodies answer 413. */
  readonly bodyLimit?: number | string;
  /** The methods by name; the built-in table by default. */
  readonly methods?: Readonly<Record<string, ApiMethod>>;
  /** The words of `send_template`'s plain-text receipts and shipping updates; `defaultPushTexts` (English) by default. */
  readonly pushTexts?: PushTexts;
}

const sendTemplatePath = 'send_template';

/**
 * The merchant API as an express router, to mount before any JSON body parser (it checks
 * the token before it reads the body, and answers malformed JSON in its own envelope):
 * `POST /api/v1/<method>` and `POST /api/v1/<method>/<token>` for each method of the table,
 * `POST /api/v1/send_template`, and `GET /api/openapi.json`. A call is authenticated, then
 * rate limited per token, then its body parsed and validated by the method's zod schema.
 * @example
 * const app = createApp({ engine, logger, metrics, rawRoutes: [createMerchantApi({ engine, tokens: ['s3cr3t'] })] });
 */
export function createMerchantApi(options: MerchantApiOptions): Router {
  const { engine } = options;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const perMinute = options.rateLimit ?? 600;
  const channels = options.channels ?? ['messenger', 'whatsapp', 'telegram', 'web'];
  const methods = new Map(Object.entries(options.methods ?? merchantMethods));
  const pushTexts = options.pushTexts ?? defaultPushTexts;
  const checkToken = createTokenCheck(options.tokens);
  const limiter = createRateLimiter(perMinute, clock);
  const serial = createKeyedLock();
  // Any content type is read as JSON: `curl -d` sends form-encoded headers with a JSON body.
  const parseJson = express.json({ type: () => true, limit: options.bodyLimit ?? '256kb' });
  let openapi: OpenApiDocument | undefined;

  const readBody = (req: Request, res: Response): Promise<unknown> =>
    new Promise((resolve, reject) => parseJson(req, res, (error?: unknown) => (error ? reject(error) : resolve(req.body))));

  const admit = (req: Request, res: Response): Caller => {
    const pathToken = req.params['token'];
    const caller = checkToken(presentedToken(typeof pathToken === 'string' ? pathToken : undefined, req.headers.authorization));
    if (!caller) throw new EngineError('UNAUTHORIZED', 'a valid merchant token is required (Authorization: Bearer <token>, or /api/v1/<method>/<token>)');
    const verdict = limiter.take(caller.name);
    if (!verdict.allowed) {
      res.setHeader('retry-after', String(verdict.retryAfterSeconds));
      throw new EngineError('RATE_LIMITED', `too many requests: at most ${perMinute} a minute per token; retry in ${verdict.retryAfterSeconds} s`);
    }
    return caller;
  };

  const router = express.Router();

  router.get('/api/openapi.json', (_req, res) => {
    openapi ??= merchantOpenApi(new Map([...methods]));
    res.set('cache-control', 'no-cache').json(openapi);
  });

  router.post('/api/v1/:method{/:token}', async (req, res) => {
    const name = String(req.params['method']);
    const requestId = String(res.getHeader('x-request-id') ?? '');
    let body: unknown;
    try {
      const caller = admit(req, res);
      const method = methods.get(name);
      if (!method && name !== sendTemplatePath) throw new EngineError('NOT_FOUND', `unknown method ${name.slice(0, 64)}`);
      body = await readBody(req, res);
      const context: MethodContext = { engine, clock, requestId, caller, logger, serial };
      const data = method ? success(await method.call(body, context)) : await sendTemplate(body, context, channels, pushTexts);
      res.status(200).json(data);
    } catch (error) {
      const failure = name === sendTemplatePath ? templateFailure(error, pushRequestId(body)) : methodFailure(error);
      if (failure.fault) logger.error({ requestId, method: name, err: error }, 'merchant API call failed');
      else logger.debug({ requestId, method: name, status: failure.httpStatus, reason: failure.body }, 'merchant API call refused');
      res.status(failure.httpStatus).json(failure.body);
    }
  });

  router.all('/api/v1/:method{/:token}', (req, res) => {
    res.setHeader('allow', 'POST');
    res.status(405).json(methodFailure(new EngineError('BAD_REQUEST', `use POST for /api/v1/<method>, not ${req.method}`)).body);
  });

  return router;
}
