/**
 * The closed table of error codes. Each boundary converts what it catches into an
 * `EngineError` with one of these, and `server/` maps them to HTTP statuses in one place.
 */
export const errorCodes = [
  'BAD_REQUEST', // the caller sent something malformed (JSON, a field of the wrong type)
  'UNAUTHORIZED', // a missing or wrong token or signature
  'NOT_FOUND', // an unknown order, customer, task or message
  'CONFLICT', // a state change that is not allowed (a status that would go down)
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'CONFIG', // a bad configuration value
  'STORE', // the store failed
  'FLOW', // a flow threw or a snapshot could not be used
  'CHANNEL', // a platform refused or could not be reached
  'SHUTTING_DOWN',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * The one error type of the engine: a stable `code`, a message safe to show a caller
 * (never a secret), and the original `cause` kept for the logs.
 * @example throw new EngineError('NOT_FOUND', 'order 42 not found')
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whatever was thrown, as an `EngineError` (an unknown error becomes `INTERNAL`). */
export function toEngineError(error: unknown, fallback: ErrorCode = 'INTERNAL'): EngineError {
  if (error instanceof EngineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(fallback, message, { cause: error });
}

/**
 * A delivery failed. `retryable` says whether the dispatcher tries again (after
 * `retryAfterMs` when the platform gave a wait hint); otherwise the message is marked
 * `failed`, or `blocked` when the platform's policy forbids it (outside a messaging window).
 */
export class DeliveryError extends EngineError {
  constructor(
    message: string,
    readonly delivery: {
      readonly retryable: boolean;
      readonly retryAfterMs?: number;
      readonly blocked?: boolean;
      /** The platform's own error code, kept in the message log. */
      readonly platformCode?: string | number;
      /** The credentials were refused: the channel is unhealthy until they change. */
      readonly unauthorized?: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super('CHANNEL', message, options);
  }
}
