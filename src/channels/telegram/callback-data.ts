import type { Address } from '../../core/ids.js';
import type { Button, OutboundMessage } from '../../core/outbound.js';
import type { Store } from '../../core/store.js';

/** Telegram's limit on `callback_data`, in UTF-8 bytes (channels.md A.4). */
export const maxCallbackDataBytes = 64;

const storedPattern = /^o:(\d{1,15}):(\d{1,4})$/;

/**
 * Whether a payload can travel as `callback_data` as it is: 1 to 64 UTF-8 bytes, and not
 * shaped like a stored reference (which would be read back as one).
 * @example fitsCallbackData('add:SKU-1') // true
 * @example fitsCallbackData('é'.repeat(33)) // false: 66 bytes
 */
export function fitsCallbackData(payload: string): boolean {
  return payload.length > 0 && Buffer.byteLength(payload, 'utf8') <= maxCallbackDataBytes && !storedPattern.test(payload);
}

/**
 * The buttons of a message in the order they are rendered and numbered: each product's
 * buttons, then the message's own buttons, then its quick replies.
 */
export function buttonsOf(message: OutboundMessage): readonly Button[] {
  switch (message.kind) {
    case 'text':
      return [...(message.buttons ?? []), ...(message.quickReplies ?? [])];
    case 'products':
      return [...message.products.flatMap((product) => product.buttons), ...(message.quickReplies ?? [])];
    default:
      return [];
  }
}

/**
 * The `callback_data` of button `index` of outbox message `outboxId`: the payload when it
 * fits, else a reference `o:<outboxId>:<index>` into the message log, which the outbox is.
 * @example callbackData('qty:a-product-id-far-too-long-for-telegram-to-carry-in-its-64-bytes:1', 42, 3) // 'o:42:3'
 */
export function callbackData(payload: string, outboxId: number, index: number): string {
  return fitsCallbackData(payload) ? payload : `o:${outboxId}:${index}`;
}

/** A tapped button's payload and title, as the conversation receives it. */
export interface ResolvedChoice {
  readonly payload: string;
  readonly title?: string;
}

/**
 * The payload a `callback_data` stands for: itself, or, for a stored reference, the payload
 * of that button of that outbox message. Null when the reference does not resolve, or
 * points at a message sent to someone else (clients can send any callback data).
 */
export async function resolveCallbackData(
  data: string,
  to: Address,
  store: Pick<Store, 'getOutbox'>,
): Promise<ResolvedChoice | null> {
  const match = storedPattern.exec(data);
  if (!match) return { payload: data };
  const item = await store.getOutbox(Number(match[1]));
  const effect = item?.effect;
  if (effect?.type !== 'reply') return null;
  const { channel, account, user } = effect.to;
  if (channel !== to.channel || account !== to.account || user !== to.user) return null;
  const button = buttonsOf(effect.message)[Number(match[2])];
  return button && 'payload' in button ? { payload: button.payload, title: button.title } : null;
}
