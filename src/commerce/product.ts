import { z } from 'zod';
import { isCurrency, parseMoney } from './money.js';

/**
 * A product id: it travels in button payloads (`qty:<id>:<n>`) that must fit Telegram's
 * 64-byte callback data, so it is short and has no `:` or spaces.
 */
export const productIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** Longest category name in bytes: it travels in a `cat:<name>` payload. */
export const maxCategoryBytes = 48;

const byteLength = (text: string) => new TextEncoder().encode(text).length;
const code = z.union([z.string(), z.number().int().nonnegative()]).transform((value) => String(value).trim());

/**
 * A product as a catalog file writes it, validated and turned into its in-memory shape:
 * `price` is a decimal ("12.50", or a JSON number) in the file and integer minor units after
 * parsing, read from its digits without float math; more decimals than the currency has
 * are refused.
 */
export const productSchema = z
  .object({
    id: code.pipe(z.string().regex(productIdPattern, 'must be 1–40 letters, digits, ".", "_" or "-"')),
    article: code.pipe(z.string().min(1, 'must not be empty').max(64)),
    title: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().trim().max(4_000).default(''),
    price: z.union([z.string(), z.number()]),
    currency: z
      .string()
      .trim()
      .transform((value) => value.toUpperCase())
      .refine(isCurrency, 'must be an ISO 4217 currency code such as EUR'),
    image_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    category: z
      .string()
      .trim()
      .min(1)
      .refine((value) => byteLength(value) <= maxCategoryBytes, `must be at most ${maxCategoryBytes} bytes`)
      .optional(),
    stock: z.number().int().nonnegative().optional(),
  })
  .transform((raw, ctx) => {
    let price: number;
    try {
      price = parseMoney(String(raw.price), raw.currency);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: (error as Error).message });
      return z.NEVER;
    }
    if (price < 0) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'must not be negative' });
      return z.NEVER;
    }
    return {
      id: raw.id,
      article: raw.article,
      title: raw.title,
      description: raw.description,
      price,
      currency: raw.currency,
      image_url: raw.image_url,
      ...(raw.category === undefined ? {} : { category: raw.category }),
      ...(raw.stock === undefined ? {} : { stock: raw.stock }),
    };
  });

/** A product in memory: `price` in integer minor units of `currency`; no `stock` means not counted. */
export interface Product {
  readonly id: string;
  readonly article: string;
  readonly title: string;
  readonly description: string;
  readonly price: number;
  readonly currency: string;
  readonly image_url: string;
  readonly category?: string;
  readonly stock?: number;
}

/** A product as a catalog file may write it (before validation). */
export type ProductInput = z.input<typeof productSchema>;

/** Whether a product can be bought now: stock is not counted, or some is left. */
export function isAvailable(product: Product): boolean {
  return product.stock === undefined || product.stock > 0;
}
