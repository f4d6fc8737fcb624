import type { ErrorCode } from '../core/errors.js';

/**
 * The one table from the engine's error codes to HTTP statuses (tRPC's
 * `getHTTPStatusCode` is the model). Every route answers an `EngineError` through it.
 */
export const httpStatusByCode: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  CONFIG: 500,
  STORE: 500,
  FLOW: 500,
  INTERNAL: 500,
  CHANNEL: 502,
  SHUTTING_DOWN: 503,
};

/**
 * The HTTP status of an error code.
 * @example httpStatusOf('NOT_FOUND') // 404
 */
export function httpStatusOf(code: ErrorCode): number {
  return httpStatusByCode[code];
}

/**
 * Whether an error of this code may show its own message to the caller. Caller mistakes
 * (4xx) and "shutting down" do; a server fault answers a generic message, and its own
 * message goes to the log only (it may name internals).
 */
export function exposesMessage(code: ErrorCode): boolean {
  const status = httpStatusByCode[code];
  return status < 500 || code === 'SHUTTING_DOWN';
}
