import { formatMoney } from '../commerce/index.js';
import type {
  Button,
  Choice,
  OutboundMessage,
  ProductCard,
  ReceiptMessage,
  ShippingUpdateMessage,
} from '../core/outbound.js';

/** What a terminal shows for some messages, and the choices its numbers stand for. */
export interface Rendered {
  readonly lines: string[];
  /** `choices[n - 1]` is what typing `n` sends. */
  readonly choices: Choice[];
}

/** How `renderMessages` lays messages out. */
export interface RenderOptions {
  /** The number of the first choice (numbering continues across a batch of messages). */
  readonly firstNumber?: number;
  /** Text is wrapped to this many columns. */
  readonly width?: number;
}

const indent = '  ';

/**
 * Renders shop messages as terminal lines: texts, product cards (title, price, availability,
 * description), receipts (items, subtotal, delivery, total) and shipping updates, with every
 * button and quick reply numbered so the customer can type `1`, `2`… to choose.
 * Pure: no I/O, no colors.
 * @example
 * renderMessages([{ kind: 'text', text: 'Hi!', quickReplies: [{ title: 'Menu', payload: 'menu' }] }]).lines
 * // ['Hi!', '  [1] Menu']
 */
export function renderMessages(messages: readonly OutboundMessage[], options: RenderOptions = {}): Rendered {
  const lines: string[] = [];
  const choices: Choice[] = [];
  const width = options.width ?? 72;
  const first = options.firstNumber ?? 1;
  const number = (choice: Choice): string => {
    choices.push(choice);
    return `[${first + choices.length - 1}] ${choice.title}`;
  };
  const buttonRow = (buttons: readonly Button[] | undefined, pad: string): void => {
    const numbered: string[] = [];
    for (const button of buttons ?? []) {
      if ('url' in button) lines.push(`${pad}↗ ${button.title}: ${button.url}`);
      else numbered.push(number(button));
    }
    if (numbered.length > 0) lines.push(...wrapItems(numbered, width - pad.length).map((row) => pad + row));
  };

  for (const message of messages) {
    switch (message.kind) {
      case 'text':
        lines.push(...wrap(message.text, width));
        buttonRow(message.buttons, indent);
        buttonRow(message.quickReplies, indent);
        break;
      case 'products':
        if (message.text) lines.push(...wrap(message.text, width));
        for (const product of message.products) {
          lines.push(...productLines(product, width));
          buttonRow(product.buttons, indent + indent);
        }
        buttonRow(message.quickReplies, indent);
        break;
      case 'receipt':
        lines.push(...receiptLines(message, width));
        break;
      case 'shipping_update':
        lines.push(...shippingLines(message, width));
        break;
      case 'invoice':
        lines.push(...wrap(message.text, width));
        break;
    }
  }
  return { lines, choices };
}

function productLines(product: ProductCard, width: number): string[] {
  const availability = product.available ? 'in stock' : 'out of stock';
  const article = product.article ? ` · ${product.article}` : '';
  return [
    `${indent}• ${product.title} — ${product.priceText} (${availability}${article})`,
    ...wrap(product.description, width - 4).map((line) => indent + indent + line),
  ].filter((line) => line.trim() !== '');
}

function receiptLines(receipt: ReceiptMessage, width: number): string[] {
  const money = (minor: number) => formatMoney(minor, receipt.currency);
  // An item's price is its unit price (the order model's); the line shows what it adds up to.
  const rows: [string, string][] = receipt.items.map((item) => [
    `${item.quantity} × ${item.title}${item.quantity > 1 ? ` (${money(item.price)} each)` : ''}`,
    money(item.price * item.quantity),
  ]);
  const totals: [string, string][] = [['Subtotal', money(receipt.summary.subtotal)]];
  for (const adjustment of receipt.adjustments) totals.push([adjustment.name, money(-Math.abs(adjustment.amount))]);
  totals.push([receipt.delivery === 'pickup' ? 'Delivery (pickup)' : 'Delivery', money(receipt.summary.shippingCost)]);
  if (receipt.summary.totalTax !== 0) totals.push(['Tax', money(receipt.summary.totalTax)]);
  const total: [string, string] = ['Total', money(receipt.summary.totalCost)];
  const column = Math.min(width - 4, Math.max(...[...rows, ...totals, total].map(([label, amount]) => label.length + amount.length + 2)));
  const row = ([label, amount]: [string, string]) => `${indent}${label}${' '.repeat(Math.max(2, column - label.length - amount.length))}${amount}`;
  const rule = `${indent}${'─'.repeat(column)}`;
  const address = receipt.address
    ? [receipt.address.street1, receipt.address.street2, `${receipt.address.postalCode} ${receipt.address.city}`, receipt.address.country]
        .filter((part) => part && part.trim() !== '')
        .join(', ')
    : receipt.addressText;
  return [
    `Receipt for order ${/^\d+$/.test(receipt.orderNumber) ? '#' : ''}${receipt.orderNumber} (${receipt.recipientName})`,
    ...rows.map(row),
    rule,
    ...totals.map(row),
    row(total),
    `${indent}Payment: ${receipt.paymentMethod}`,
    ...(receipt.delivery === 'shipping' && address ? wrap(`Ships to: ${address}`, width - 2).map((line) => indent + line) : []),
    ...(receipt.orderUrl ? [`${indent}↗ ${receipt.orderUrl}`] : []),
  ];
}

function shippingLines(update: ShippingUpdateMessage, width: number): string[] {
  return [
    `Order #${update.orderId}: ${update.statusText}`,
    ...wrap(update.text, width - 2).map((line) => indent + line),
    ...(update.packageNumber ? [`${indent}Package: ${update.packageNumber}`] : []),
    ...(update.trackingUrl ? [`${indent}↗ Tracking: ${update.trackingUrl}`] : []),
  ];
}

/** Wraps each paragraph of `text` to `width` columns, on spaces. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Lays numbered items out in rows no wider than `width`. */
function wrapItems(items: readonly string[], width: number): string[] {
  const rows: string[] = [];
  let row = '';
  for (const item of items) {
    if (row && row.length + 3 + item.length > width) {
      rows.push(row);
      row = item;
    } else {
      row = row ? `${row}   ${item}` : item;
    }
  }
  if (row) rows.push(row);
  return rows;
}
