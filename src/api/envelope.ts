import { EngineError, type ErrorCode } from '../core/errors.js';
import { describeError } from '../server/errors.js';
import { templateErrorBody, type SendTemplateError } from './send-template.js';

/** A method's successful answer. */
export interface SuccessEnvelope<T = unknown> {
  readonly status: 'success';
  readonly data: T;
}

/** A method's failed answer: `fail` for the caller's mistakes (4xx), `error` for ours (5xx). */
export interface FailEnvelope {
  readonly status: 'fail' | 'error';
  readonly message: string;
}

/** How a failure is answered: the HTTP status, the body, and whether it is our fault (logged as an error). */
export interface Failure<B> {
  readonly httpStatus: number;
  readonly body: B;
  readonly fault: boolean;
}

/**
 * A successful answer.
 * @example success({ requeued: 2 }) // { status: 'success', data: { requeued: 2 } }
 */
export function success<T>(data: T): SuccessEnvelope<T> {
  return { status: 'success', data };
}

/**
 * A failed method call as its envelope. The status comes from the server's one table of
 * error codes (`server/http-status.ts`); a fault answers a generic message, never a stack.
 * @example methodFailure(new EngineError('CONFLICT', 'task 3 already ran')) // { httpStatus: 409, body: { status: 'fail', … } }
 */
export function methodFailure(error: unknown): Failure<FailEnvelope> {
  const { status, message, fault } = describeError(error);
  return { httpStatus: status, body: { status: status < 500 ? 'fail' : 'error', message }, fault };
}

/**
 * A failed `send_template` call in the push API's own error shape (see `templateErrorBody`).
 * @example templateFailure(new EngineError('NOT_FOUND', 'Recipient not found'), 'r-1').httpStatus // 404
 */
export function templateFailure(error: unknown, requestId: string | number | null): Failure<SendTemplateError> {
  const { status, message, fault } = describeError(error);
  return { httpStatus: status, body: templateErrorBody(engineCodeOf(error, status), message, requestId), fault };
}

/** The engine's code of an error; body-parser's refusals (malformed JSON, too large) by their status. */
function engineCodeOf(error: unknown, status: number): ErrorCode | 'OTHER' {
  if (error instanceof EngineError) return error.code;
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'OTHER';
}
