import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config.js';

/** The pino logger `createLogger` answers (it fits the core's `Logger` port). */
export type { PinoLogger };

/** Keys whose values are secrets: replaced by `[redacted]` wherever they appear (two levels deep). */
const secretKeys = [
  'token',
  'accessToken',
  'access_token',
  'secret',
  'appSecret',
  'password',
  'authorization',
  'apiKey',
  'merchantToken',
  'merchantTokens',
  'botToken',
  'pageToken',
  'paymentToken',
  'webhookSecret',
  '"x-hub-signature-256"',
  '"x-telegram-bot-api-secret-token"',
  '"x-orderly-signature"',
];

/** Keys that hold phone numbers: masked to their last two digits. */
const phoneKeys = ['phone', 'mobile', 'phoneNumber', 'phone_number', 'wa_id', 'display_phone_number'];

const paths = (keys: readonly string[]): string[] =>
  keys.flatMap((key) => {
    const step = key.startsWith('"') ? `[${key}]` : `.${key}`;
    return [key.startsWith('"') ? `[${key}]` : key, `*${step}`, `*.*${step}`];
  });

const phoneKeySet = new Set(phoneKeys);

/** A phone number keeps its last two digits, enough to tell two apart in a log. */
export function maskPhone(value: unknown): string {
  const digits = String(value).replace(/\D/g, '');
  return digits.length <= 2 ? '[redacted]' : `…${digits.slice(-2)}`;
}

/** The paths the logger redacts; exported so a test can see a secret never gets through. */
export const redactPaths: readonly string[] = [
  ...paths(secretKeys),
  ...paths(phoneKeys),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
];

/**
 * A request path as logs show it: the merchant API's token-in-the-path form
 * (`/api/v1/<method>/<token>`) keeps its method and loses its token.
 * @example loggablePath('/api/v1/getOrder/s3cr3t') // '/api/v1/getOrder/[redacted]'
 */
export function loggablePath(path: string): string {
  return path.replace(/^(\/api\/v1\/[^/]+\/)[^/]+/, '$1[redacted]');
}

/** How `createLogger` builds a logger. */
export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; stdout by default. */
  readonly destination?: DestinationStream;
  /** Fields on every line (a service name, an instance id). */
  readonly base?: Record<string, unknown>;
}

/**
 * A pino logger that redacts tokens, secrets, authorization headers and phone numbers.
 * It fits the core's `Logger` port as it is.
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.info({ url: 'http://127.0.0.1:3000' }, 'listening');
 */
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? { pid: process.pid },
      redact: {
        paths: [...redactPaths],
        censor: (value: unknown, path: string[]) => {
          const key = path[path.length - 1];
          return key !== undefined && phoneKeySet.has(key) && value != null ? maskPhone(value) : '[redacted]';
        },
      },
    },
    options.destination,
  );
}
