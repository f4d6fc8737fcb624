import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { messengerPostback, messengerText, page, telegramText, whatsappText } from './harness.js';

/**
 * Bad input for the fault suite: valid bodies of every route (the fixtures, the README's
 * examples) and fast-check arbitraries that break them the ways callers and attackers do:
 * truncated JSON, wrong types, huge strings, deep nesting, bodies over the limit, unicode
 * edge cases, prototype-pollution keys, random JSON and random bytes.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One body to throw at a route, and what it is. */
export interface BadBody {
  readonly kind: string;
  readonly raw: string | Uint8Array;
}

/** The body limit of every route (256 kB). */
export const bodyLimit = 256 * 1024;

const fixtures = (folder: string): Json[] => {
  const dir = new URL(`../fixtures/${folder}/`, import.meta.url);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Json);
};

/** Valid webhook bodies of each platform, to mutate. */
export const webhookBases: Readonly<Record<'messenger' | 'whatsapp' | 'telegram', readonly Json[]>> = {
  messenger: [...fixtures('messenger'), messengerText('7300000000000001', 'hi', 'm_base_1') as Json, messengerPostback('7300000000000001', 'browse', 'Browse', 'm_base_2') as Json],
  whatsapp: [...fixtures('whatsapp'), ...fixtures('whatsapp-onprem'), whatsappText('34600000001', 'hi', 'wamid.base1') as Json],
  telegram: [...fixtures('telegram').filter((fixture) => !Array.isArray(fixture)), telegramText(4_200_001, 'hi', 1) as Json],
};

const receiptPush: Json = {
  request: { method: 'send_template', id: 'fuzz-push-1', page_id: page, template_name: 'Order Receipt Push' },
  recipient: { id: '9999999999999999' },
  params: {
    recipient_name: 'Ana Lopez',
    order_number: 'ORD-1001',
    currency: 'USD',
    payment_method: 'Visa 4242',
    order_url: 'https://shop.example.com/orders/ORD-1001',
    timestamp: '1767225700',
    address: { street_1: 'Calle Mayor 1', street_2: '', city: 'Madrid', postal_code: '28013', state: 'Madrid', country: 'ES' },
    summary: { subtotal: 25.0, shipping_cost: 4.95, total_tax: 0.0, total_cost: 24.95 },
    adjustments: [{ name: 'Welcome discount', amount: 5.0 }],
    elements: [{ title: 'Linen shirt (M)', subtitle: '100% linen', quantity: 1, price: 25.0, currency: 'USD', image_url: 'https://shop.example.com/img/a.png' }],
  },
};
const shippingPush: Json = {
  request: { method: 'send_template', id: 'fuzz-push-2', template_name: 'Shipping Status Update Push' },
  recipient: { id: '9999999999999999' },
  params: { package_number: '1Z999AA10123456784', package_status: 'Shipped', detailed_tracking_url: 'https://track.example.com/1Z', fb_first_name: 'Ana' },
};

/** A valid body of each merchant API method (ids that exist nowhere) and of send_template. */
export const apiBases: Readonly<Record<string, readonly Json[]>> = {
  getOrder: [{ id: 987_654 }],
  listOrders: [{}, { status: 10, limit: 5, after: 0 }],
  updateOrderStatus: [{ id: 987_654, status: 20 }],
  paidOrder: [{ id: 987_654 }],
  findCustomer: [{ channel: 'messenger', external_id: '6543210987654321' }],
  addTask: [{ user_id: 987_654, command: 'menu', timestamp: 1_767_225_600 }],
  removeTask: [{ id: 987_654 }],
  getTask: [{ id: 987_654 }],
  getMessage: [{ id: 987_654 }],
  listMessages: [{ user_id: 987_654, after: 0, limit: 20 }],
  retryNotifications: [{}],
  send_template: [receiptPush, shippingPush],
};

type Path = (string | number)[];

/** Every node's path, the root's (`[]`) first. */
function pathsOf(value: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...at, index], out));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) pathsOf(item, [...at, key], out);
  return out;
}

/** A copy of `value` with the node at `path` replaced (own properties only: `__proto__` stays data). */
function replaceAt(value: Json, path: Path, replacement: Json): Json {
  if (path.length === 0) return replacement;
  const copy: Json = JSON.parse(JSON.stringify(value)) as Json;
  let node = copy as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, Json>;
  Object.defineProperty(node, path[path.length - 1]!, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

const objectPaths = (value: Json): Path[] =>
  pathsOf(value).filter((path) => {
    let node: Json = value;
    for (const step of path) node = (node as Record<string | number, Json>)[step]!;
    return node !== null && typeof node === 'object' && !Array.isArray(node);
  });

const pick = <T>(items: readonly T[], index: number): T => items[index % items.length]!;

/** Strings that break naive text handling: lone surrogates, bidi overrides, zero-width, NUL, BOM. */
export const nastyStrings: readonly string[] = [
  '\ud800',
  'tail \udfff',
  'a\ud83d',
  '\u202eevil\u202c',
  'zero\u200bwidth\u200d',
  '\ufeffbom',
  'nul\u0000byte',
  'שלום עולם',
  'مرحبا',
  'e\u0301\u0327\u0300',
  'line\u2028sep\u2029',
  '😀'.repeat(500),
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '../../etc/passwd',
  "'; DROP TABLE orders; --",
  '%00%ff',
  '\\u0000',
];

const pollutionKeys = ['__proto__', 'constructor', 'prototype'] as const;
const pollutionValues: readonly Json[] = [{ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, 'polluted', [{ polluted: 'yes' }], null];

const hugeString = fc.tuple(fc.integer({ min: 10_000, max: 200_000 }), fc.constantFrom('x', 'é', '😀', '\u200b')).map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)));
const odd = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(null, true, false, 0, -1, -0.5, 1e308, -1e308, 2 ** 53 + 1, '', ' ', '0', '1e3', 'null', [], {}),
  fc.constantFrom(...nastyStrings),
  fc.string({ unit: 'binary', maxLength: 64 }),
);

/**
 * Broken variants of `bases`. Over-the-limit bodies are generated separately (`oversized`):
 * the property checks every other variant is read and judged.
 */
export function badBodies(bases: readonly Json[]): fc.Arbitrary<BadBody> {
  const base = fc.nat().map((index) => pick(bases, index));
  const json = (kind: string, value: Json): BadBody => ({ kind, raw: JSON.stringify(value) });
  return fc.oneof(
    base.map((value) => json('valid', value)),
    fc.tuple(base, fc.nat(), odd).map(([value, at, replacement]) => json('wrong type', replaceAt(value, pick(pathsOf(value), at), replacement))),
    fc.tuple(base, fc.nat(), hugeString).map(([value, at, text]) => json('huge string', replaceAt(value, pick(pathsOf(value), at), text))),
    fc.tuple(base, fc.nat(), fc.constantFrom(...nastyStrings)).map(([value, at, text]) => json('unicode', replaceAt(value, pick(pathsOf(value), at), text))),
    fc.tuple(base, fc.nat(), fc.constantFrom(...pollutionKeys), fc.constantFrom(...pollutionValues)).map(([value, at, key, polluted]) => {
      const paths = objectPaths(value);
      const path = paths.length > 0 ? pick(paths, at) : [];
      return json(`prototype key ${key}`, replaceAt(value, [...path, key], polluted));
    }),
    fc.tuple(base, fc.nat()).map(([value, at]) => {
      const text = JSON.stringify(value);
      return { kind: 'truncated JSON', raw: text.slice(0, at % Math.max(1, text.length)) };
    }),
    fc.tuple(base, fc.nat(), fc.integer({ min: 100, max: 100_000 }), fc.boolean()).map(([value, at, depth, arrays]) => {
      const marker = '__deep_marker__';
      const text = JSON.stringify(replaceAt(value, pick(pathsOf(value), at), marker));
      // Kept under the body limit: objects cost six bytes a level, arrays two.
      const levels = arrays ? depth : Math.min(depth, 40_000);
      const deep = arrays ? `${'['.repeat(levels)}1${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
      return { kind: `nested ${levels} deep`, raw: text.replace(`"${marker}"`, deep) };
    }),
    fc.tuple(base, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([value, at, bytes]) => {
      const text = Buffer.from(JSON.stringify(value), 'utf8');
      const cut = at % text.length;
      // Raw bytes, often not UTF-8 (0xff, a lone continuation byte), spliced into the JSON text.
      return { kind: 'invalid UTF-8', raw: Buffer.concat([text.subarray(0, cut), Buffer.from([0xff, 0xc0, ...bytes]), text.subarray(cut)]) };
    }),
    (fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>).map((value) => json('random JSON', value)),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ kind: 'random bytes', raw: bytes })),
    fc.constantFrom<BadBody>({ kind: 'empty', raw: '' }, { kind: 'null', raw: 'null' }, { kind: 'array', raw: '[]' }, { kind: 'string', raw: '"hi"' }, { kind: 'number', raw: '1e999' }),
  );
}

/** A valid base grown past the body limit. */
export function oversized(bases: readonly Json[]): fc.Arbitrary<BadBody> {
  return fc.tuple(fc.nat(), fc.integer({ min: bodyLimit + 1, max: bodyLimit * 4 })).map(([index, size]) => {
    const value = pick(bases, index);
    return { kind: `over the limit (${size} bytes)`, raw: JSON.stringify({ padding: 'x'.repeat(size), value }) };
  });
}

/** Whether a body is JSON the server can read (what it decides 400 by). */
export function isJson(raw: string | Uint8Array): boolean {
  try {
    JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** What a body must never show: a stack frame, a source path, an internal error class name. */
export const stackTrace = /\n\s+at |\bat [\w.<>]+ \(|\.(ts|js|mjs|cjs):\d+|node_modules|(Type|Range|Reference|Syntax)Error/;
