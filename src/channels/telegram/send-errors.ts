import { GrammyError, HttpError } from 'grammy';
import { DeliveryError } from '../../core/errors.js';

/**
 * Removes the bot token from a text: it is part of every Bot API URL, so an error from the
 * HTTP layer may carry it.
 * @example redactToken('GET /bot123:abc/getMe failed', '123:abc') // 'GET /bot<token>/getMe failed'
 */
export function redactToken(text: string, token: string): string {
  return token ? text.split(token).join('<token>') : text;
}

/**
 * What a failed Bot API call means for the outbox (channels.md A.6): 429 and 5xx are
 * retried after `retry_after` when given; an unreachable API (`HttpError`) is retried; 401
 * is a refused token (`unauthorized`); 403 (blocked by the user, kicked) marks the message
 * `blocked`; any other 4xx (chat not found, a bad request) fails for good. Messages never
 * hold the token, and an `HttpError`'s cause (which may) is not kept.
 * @example
 * toDeliveryError(new GrammyError('…', { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } }, 'sendMessage', {}), token)
 * // DeliveryError { delivery: { retryable: true, retryAfterMs: 7000, platformCode: 429 } }
 */
export function toDeliveryError(error: unknown, token: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const message = redactToken(`Telegram ${error.method}: ${code} ${error.description}`, token);
    const base = { platformCode: code };
    const retryAfter = error.parameters.retry_after;
    if (code === 429 || code >= 500) {
      return new DeliveryError(message, { retryable: true, ...base, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter * 1_000 }) }, { cause: error });
    }
    if (code === 401) return new DeliveryError(message, { retryable: false, unauthorized: true, ...base }, { cause: error });
    if (code === 403) return new DeliveryError(message, { retryable: false, blocked: true, ...base }, { cause: error });
    return new DeliveryError(message, { retryable: false, ...base }, { cause: error });
  }
  if (error instanceof HttpError) {
    const inner = error.error instanceof Error ? `: ${(error.error as { code?: unknown }).code ?? error.error.message}` : '';
    return new DeliveryError(redactToken(`${error.message}${inner}`, token).slice(0, 300), { retryable: true });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new DeliveryError(redactToken(`Telegram call failed: ${text}`, token).slice(0, 300), { retryable: true });
}
