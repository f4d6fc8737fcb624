import type { InboundEvent } from '../../src/core/events.js';
import { foldText } from '../../src/commerce/search.js';
import type { Texts } from '../messages.js';

/**
 * What a customer's input asks for, whatever its form: a typed text, a tapped button (a
 * `payload`), a `command` or a due task. Payloads are short (Telegram allows 64 bytes):
 *
 *   menu | help | cancel | browse | search | cart | orders | checkout | empty
 *   cat:<category>          ('' is the products without a category)
 *   product:<id> | add:<id> | edit:<id>
 *   qty:<id>:<n>            add n to the cart
 *   set:<id>:<n>            set the cart's quantity (0 removes)
 *
 * Checkout steps have their own payloads (`delivery:pickup`, `time:asap`, `confirm`,
 * `change`, `change:<field>`): they read as `other` here and the step reads them.
 */
export type Intent =
  | { readonly kind: 'menu' | 'help' | 'cancel' | 'browse' | 'search' | 'cart' | 'orders' | 'checkout' | 'empty' }
  | { readonly kind: 'find'; readonly words: string }
  | { readonly kind: 'category'; readonly category: string }
  | { readonly kind: 'product' | 'add' | 'edit'; readonly id: string }
  | { readonly kind: 'qty' | 'set'; readonly id: string; readonly quantity: number }
  /** Anything else: free text, or a payload only a step knows. */
  | { readonly kind: 'other'; readonly text: string; readonly payload: boolean }
  /** Not customer input (an order update, a message status). */
  | { readonly kind: 'none' };

export type IntentKind = Intent['kind'];

/** Builds the payloads of the grammar above. */
export const payloads = {
  menu: 'menu',
  help: 'help',
  cancel: 'cancel',
  browse: 'browse',
  search: 'search',
  cart: 'cart',
  orders: 'orders',
  checkout: 'checkout',
  empty: 'empty',
  category: (category: string) => `cat:${category}`,
  product: (id: string) => `product:${id}`,
  add: (id: string) => `add:${id}`,
  edit: (id: string) => `edit:${id}`,
  qty: (id: string, quantity: number) => `qty:${id}:${quantity}`,
  set: (id: string, quantity: number) => `set:${id}:${quantity}`,
  delivery: (delivery: 'pickup' | 'shipping') => `delivery:${delivery}`,
  asap: 'time:asap',
  confirm: 'confirm',
  change: 'change',
  changeField: (field: string) => `change:${field}`,
} as const;

const plain = new Set(['menu', 'help', 'cancel', 'browse', 'search', 'cart', 'orders', 'checkout', 'empty'] as const);
type PlainKind = typeof plain extends Set<infer K> ? K : never;

/** Reads a payload of the grammar. */
export function readPayload(payload: string): Intent {
  const text = payload.trim();
  if (plain.has(text as PlainKind)) return { kind: text as PlainKind };
  if (text === 'start' || text === '/start' || text === '/menu') return { kind: 'menu' };
  const colon = text.indexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (colon >= 0) {
    if (head === 'cat') return { kind: 'category', category: rest };
    if ((head === 'product' || head === 'add' || head === 'edit') && rest) return { kind: head, id: rest };
    const counted = /^(.+):(\d{1,4})$/.exec(rest);
    if ((head === 'qty' || head === 'set') && counted) {
      return { kind: head, id: counted[1]!, quantity: Number(counted[2]) };
    }
  }
  return { kind: 'other', text, payload: true };
}

/** A typed text as words are compared: folded, single-spaced, without closing punctuation. */
export function normalizeText(text: string): string {
  return foldText(text).replace(/\s+/g, ' ').trim().replace(/[!.,;]+$/, '');
}

/**
 * Reads a typed text. `loose` (the main menu, commands, due tasks) recognizes every word;
 * otherwise (a checkout step waiting for an answer) only menu, help and cancel.
 */
export function readText(text: string, texts: Texts, loose: boolean): Intent {
  const said = normalizeText(text);
  const { words } = texts;
  const is = (list: readonly string[]) => list.includes(said);
  if (is(words.menu)) return { kind: 'menu' };
  if (is(words.help)) return { kind: 'help' };
  if (is(words.cancel)) return { kind: 'cancel' };
  if (!loose) return { kind: 'other', text: text.trim(), payload: false };
  if (is(words.greeting)) return { kind: 'menu' };
  if (is(words.browse)) return { kind: 'browse' };
  if (is(words.cart)) return { kind: 'cart' };
  if (is(words.orders)) return { kind: 'orders' };
  if (is(words.checkout)) return { kind: 'checkout' };
  if (is(words.emptyCart)) return { kind: 'empty' };
  if (is(words.search)) return { kind: 'search' };
  const [first = '', ...others] = text.trim().split(/\s+/);
  const lead = normalizeText(first);
  if (others.length > 0 && words.search.includes(lead)) return { kind: 'find', words: others.join(' ') };
  if (others.length === 1 && words.product.includes(lead)) return { kind: 'product', id: others[0]! };
  return { kind: 'other', text: text.trim(), payload: false };
}

/**
 * What an event asks for. Payloads follow the grammar; commands and due tasks are read as
 * typed commands (or as payloads when they are written as one, like `cat:Tea`).
 */
export function readInput(event: InboundEvent, texts: Texts, looseText: boolean): Intent {
  // A step asks this of one event once per guard it tries: read it once (per texts and mode).
  let known = reads.get(event);
  if (known?.texts !== texts) {
    known = { texts };
    reads.set(event, known);
  }
  const mode = looseText ? 'loose' : 'strict';
  return (known[mode] ??= read(event, texts, looseText));
}

const reads = new WeakMap<InboundEvent, { texts: Texts; loose?: Intent; strict?: Intent }>();

function read(event: InboundEvent, texts: Texts, looseText: boolean): Intent {
  switch (event.type) {
    case 'payload':
      return readPayload(event.payload);
    case 'text':
      return readText(event.text, texts, looseText);
    case 'command':
    case 'task_due': {
      const read = readText(event.command, texts, true);
      return read.kind === 'other' ? readPayload(event.command) : read;
    }
    default:
      return { kind: 'none' };
  }
}
