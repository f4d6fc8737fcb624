import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { WebhookRequest } from '../../core/channel.js';

const prefix = 'sha256=';
const digestBytes = 32;
const headerLength = prefix.length + digestBytes * 2;

/** Checks a webhook's `X-Hub-Signature-256` header against its raw bytes. */
export type SignatureVerifier = (request: WebhookRequest) => boolean;

/**
 * A verifier of Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`,
 * compared in constant time over the raw bytes exactly as received (Meta escapes non-ASCII
 * as `\uXXXX`, so a re-serialized body never matches). Without an app secret it refuses
 * every request.
 * @example
 * const verify = createSignatureVerifier(process.env.META_APP_SECRET);
 * verify({ rawBody, headers: req.headers }) // true or false
 */
export function createSignatureVerifier(appSecret: string | undefined): SignatureVerifier {
  if (!appSecret) return () => false;
  const key: KeyObject = createSecretKey(Buffer.from(appSecret, 'utf8'));
  return (request) => {
    const header = signatureHeader(request.headers);
    if (header === undefined || header.length !== headerLength || !header.startsWith(prefix)) return false;
    const given = Buffer.from(header.slice(prefix.length), 'hex');
    // Hex decoding stops at the first non-hex character: a short buffer means a malformed header.
    if (given.length !== digestBytes) return false;
    const expected = createHmac('sha256', key).update(request.rawBody).digest();
    return timingSafeEqual(given, expected);
  };
}

function signatureHeader(headers: WebhookRequest['headers']): string | undefined {
  // Node lower-cases header names; a caller building the request by hand may not.
  const value = headers['x-hub-signature-256'] ?? headers['X-Hub-Signature-256'];
  // Several signature headers are not something Meta sends: refuse rather than pick one.
  return typeof value === 'string' ? value : undefined;
}

/**
 * Compares two secrets without leaking where they differ (their lengths may leak).
 * @example safeEqual(query['hub.verify_token'], config.verifyToken)
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
