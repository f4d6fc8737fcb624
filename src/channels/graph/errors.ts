import { DeliveryError } from '../../core/errors.js';

/** Response headers as undici hands them over. */
export type GraphHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The `error` object of a Graph API error body. */
export interface GraphErrorBody {
  readonly code?: number;
  readonly error_subcode?: number;
  readonly message?: string;
}

/**
 * The classification table (channels.md B.7 for Messenger, C.8 for WhatsApp). Codes that
 * appear in neither set are judged by the HTTP status: 429 and 5xx retry, the rest fail.
 */
const unauthorizedCodes = new Set([190, 102]);
/** Rate limits and throughput limits: retry after the platform's wait hint or a backoff. */
const throttleCodes = new Set([4, 17, 32, 613, 80006, 80007, 80008, 130429, 131048, 131056, 131057]);
/** "Unknown error, possibly temporary", "service temporarily unavailable", Meta's 341. */
const transientCodes = new Set([1, 2, 341]);
/** 613 subcodes Meta says not to retry: abusive tag use, a duplicate opt-in request. */
const finalThrottleSubcodes = new Set([2018338, 1893016]);
/** Code 10 subcodes meaning "outside the allowed messaging window". */
const windowSubcodes = new Set([2018278, 2534022, 2018065]);
/** WhatsApp's "re-engagement required": outside the customer service window. */
const windowCodes = new Set([131047]);
/**
 * Permanent whatever the HTTP status: permission (10, 200–299), invalid parameter (100,
 * incl. 2018001 no matching user), policy block (368), user unavailable (551, 1545041),
 * handover (2018300), undeliverable/unsupported (131026, 131051), bad value (131009),
 * media (131052/131053), per-user marketing limit (131049, only after 24 h).
 */
const permanentCodes = new Set([10, 100, 368, 551, 2018300, 131009, 131026, 131049, 131051, 131052, 131053]);

const maxWaitMs = 24 * 60 * 60 * 1000;

/**
 * Turns a Graph API error answer into a `DeliveryError` that tells the dispatcher whether
 * to retry, after how long, whether the window blocked it and whether the token was refused.
 * `attempt` (0 on the first try) sets WhatsApp's pair-rate wait of 4^attempt seconds.
 * @example
 * graphError(400, { error: { code: 551, message: 'This person isn’t available' } }, {}, 0)
 * // DeliveryError { delivery: { retryable: false, platformCode: 551 } }
 */
export function graphError(status: number, body: unknown, headers: GraphHeaders, attempt: number): DeliveryError {
  const error = errorOf(body);
  const code = error?.code;
  const subcode = error?.error_subcode;
  const platformCode = code === undefined ? undefined : subcode === undefined ? code : `${code}/${subcode}`;
  const message = `graph api ${platformCode ?? `HTTP ${status}`}: ${(error?.message ?? `HTTP ${status}`).slice(0, 200)}`;
  const base = platformCode === undefined ? {} : { platformCode };

  if ((code !== undefined && unauthorizedCodes.has(code)) || (code === undefined && status === 401)) {
    return new DeliveryError(message, { retryable: false, unauthorized: true, ...base });
  }
  if (code === 613 && subcode !== undefined && finalThrottleSubcodes.has(subcode)) {
    return new DeliveryError(message, { retryable: false, ...base });
  }
  if (code !== undefined && (throttleCodes.has(code) || transientCodes.has(code))) {
    return retryable(message, base, waitHintMs(headers) ?? defaultWaitMs(code, attempt));
  }
  if ((code === 10 && subcode !== undefined && windowSubcodes.has(subcode)) || (code !== undefined && windowCodes.has(code))) {
    return new DeliveryError(message, { retryable: false, blocked: true, ...base });
  }
  if (code !== undefined && (permanentCodes.has(code) || (code >= 200 && code <= 299))) {
    return new DeliveryError(message, { retryable: false, ...base });
  }
  if (status === 429 || status >= 500) return retryable(message, base, waitHintMs(headers));
  return new DeliveryError(message, { retryable: false, ...base });
}

/**
 * The platform was never reached, or did not answer in time: always worth another try.
 * `secret` (the token) is masked should the transport's message contain it.
 * @example throw graphNetworkError(error)
 */
export function graphNetworkError(cause: unknown, secret?: string): DeliveryError {
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  const said = cause instanceof Error ? cause.message : String(cause);
  // A transport error naming the request URL would carry a query-string token.
  const what = secret ? said.split(secret).join('***') : said;
  return new DeliveryError(`graph api unreachable${code ? ` (${code})` : ''}: ${what.slice(0, 200)}`, { retryable: true }, { cause });
}

function retryable(message: string, base: { platformCode?: string | number }, waitMs: number | undefined): DeliveryError {
  return new DeliveryError(message, { retryable: true, ...base, ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }) });
}

function errorOf(body: unknown): GraphErrorBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, error_subcode, message } = error as Record<string, unknown>;
  return {
    ...(typeof code === 'number' ? { code } : {}),
    ...(typeof error_subcode === 'number' ? { error_subcode } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/** Meta's own advice where it gives one: the pair rate limit backs off 4^X s, maintenance ~1 min. */
function defaultWaitMs(code: number, attempt: number): number | undefined {
  if (code === 131056) return Math.min(maxWaitMs, 4 ** Math.min(attempt, 10) * 1000);
  if (code === 131057) return 60_000;
  return undefined;
}

/**
 * The platform's wait hint: `Retry-After` (seconds or a date), or the largest
 * `estimated_time_to_regain_access` (minutes) in the `X-Business-Use-Case-Usage`,
 * `X-App-Usage` or `X-Page-Usage` headers.
 */
export function waitHintMs(headers: GraphHeaders, now: number = Date.now()): number | undefined {
  const retryAfter = first(headers['retry-after']);
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms) && ms >= 0) return Math.min(maxWaitMs, Math.round(ms));
  }
  let minutes: number | undefined;
  for (const name of ['x-business-use-case-usage', 'x-app-usage', 'x-page-usage']) {
    const value = first(headers[name]);
    if (value === undefined) continue;
    try {
      const found = regainMinutes(JSON.parse(value));
      if (found !== undefined) minutes = Math.max(minutes ?? 0, found);
    } catch {
      // A malformed usage header is no hint.
    }
  }
  return minutes === undefined ? undefined : Math.min(maxWaitMs, minutes * 60_000);
}

/** Finds `estimated_time_to_regain_access` at any depth of a usage header (its shapes differ). */
function regainMinutes(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let found: number | undefined;
  for (const [key, inner] of Object.entries(value)) {
    const minutes = key === 'estimated_time_to_regain_access' && typeof inner === 'number' ? inner : regainMinutes(inner);
    if (minutes !== undefined && minutes > 0) found = Math.max(found ?? 0, minutes);
  }
  return found;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
