import { safeEqual } from './signature.js';

/**
 * The webhook subscription handshake (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`):
 * the challenge to echo verbatim as text when the token matches, otherwise null (answer 403).
 * Without a configured verify token every handshake is refused.
 * @example
 * verifySubscription({ 'hub.mode': 'subscribe', 'hub.verify_token': 't', 'hub.challenge': '42' }, 't') // '42'
 */
export function verifySubscription(query: Readonly<Record<string, unknown>>, verifyToken: string | undefined): string | null {
  if (!verifyToken) return null;
  // The simple query parser keeps the dots; an extended one nests them under `hub`.
  const nested = query['hub'];
  const hub = typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : undefined;
  const mode = query['hub.mode'] ?? hub?.['mode'];
  const token = query['hub.verify_token'] ?? hub?.['verify_token'];
  const challenge = query['hub.challenge'] ?? hub?.['challenge'];
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') return null;
  return safeEqual(token, verifyToken) ? challenge : null;
}
