import type { ErrorRequestHandler, RequestHandler } from 'express';
import { EngineError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { exposesMessage, httpStatusOf } from './http-status.js';
import { loggablePath } from './logger.js';

/** The answer of a failed request: `fail` for the caller's mistakes, `error` for ours. */
export interface ErrorBody {
  readonly status: 'fail' | 'error';
  readonly message: string;
}

/** What body-parser (behind `express.json`) attaches to its errors. */
interface ParserError {
  readonly type: string;
  readonly status: number;
  readonly expose?: boolean;
  readonly limit?: number;
}

function isParserError(error: unknown): error is ParserError {
  if (typeof error !== 'object' || error === null) return false;
  const { type, status } = error as Partial<ParserError>;
  return typeof type === 'string' && typeof status === 'number';
}

/**
 * The status and the message safe to answer for anything thrown; `fault` says it is ours
 * (logged as an error) rather than the caller's.
 * @example describeError(new EngineError('NOT_FOUND', 'order 42 not found')) // { status: 404, message: 'order 42 not found', fault: false }
 */
export function describeError(error: unknown): { status: number; message: string; fault: boolean } {
  if (error instanceof EngineError) {
    const status = httpStatusOf(error.code);
    const fault = status >= 500 && error.code !== 'SHUTTING_DOWN';
    return { status, message: exposesMessage(error.code) ? error.message : 'internal server error', fault };
  }
  if (isParserError(error)) {
    switch (error.type) {
      case 'entity.parse.failed':
        return { status: 400, message: 'malformed JSON in the request body', fault: false };
      case 'entity.too.large':
        return {
          status: 413,
          message: error.limit ? `request body too large (the limit is ${error.limit} bytes)` : 'request body too large',
          fault: false,
        };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return { status: 415, message: error instanceof Error ? error.message : 'unsupported encoding', fault: false };
      default:
        if (error.status >= 400 && error.status < 500 && error.expose !== false) {
          return { status: error.status, message: error instanceof Error ? error.message : 'bad request', fault: false };
        }
    }
  }
  return { status: 500, message: 'internal server error', fault: true };
}

/**
 * The express error handler, mounted last. An `EngineError` answers its mapped status
 * (`http-status.ts`); malformed JSON answers 400, a body over the limit 413; anything else
 * answers 500 with a generic message and is logged with the request id. No response ever
 * carries a stack trace.
 * @example
 * app.use(createErrorHandler(logger));
 */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late to answer: let express close the connection.
      next(error);
      return;
    }
    const { status, message, fault } = describeError(error);
    const requestId = res.getHeader('x-request-id');
    if (fault) {
      logger.error({ err: error, requestId, method: req.method, path: loggablePath(req.path) }, 'request failed');
    } else {
      logger.debug({ requestId, method: req.method, path: loggablePath(req.path), status, reason: message }, 'request refused');
    }
    const body: ErrorBody = { status: status < 500 ? 'fail' : 'error', message };
    res.status(status).json(body);
  };
}

/**
 * Answers 404 for routes nobody serves, in the same shape as every other error.
 * @example
 * app.use(notFoundHandler);
 */
export const notFoundHandler: RequestHandler = (req, res) => {
  const body: ErrorBody = { status: 'fail', message: `no route for ${req.method} ${req.path}` };
  res.status(404).json(body);
};
