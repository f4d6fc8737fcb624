import { z } from 'zod';
import { isCurrency } from '../commerce/money.js';

/**
 * Field schemas shared by the request bodies, each with messages a merchant can act on
 * ("required", "must be a positive integer"), so a refusal names the field and says why.
 */

type Issue = { readonly input?: unknown };

/** "required" when the field is missing, otherwise `message`. */
export const requiredOr =
  (message: string) =>
  (issue: Issue): string =>
    issue.input === undefined ? 'required' : message;

/** A positive integer id (JSON number). */
export const positiveId = () =>
  z
    .number({ error: requiredOr('must be a positive integer') })
    .int({ error: 'must be a positive integer' })
    .positive({ error: 'must be a positive integer' })
    .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' });

/** A paging cursor: the last id of the page before (0 or more). */
export const cursor = () =>
  z
    .number({ error: requiredOr('must be an integer of 0 or more') })
    .int({ error: 'must be an integer of 0 or more' })
    .nonnegative({ error: 'must be an integer of 0 or more' })
    .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' });

/** How many items a page holds: 1 to 100, 20 when not given. */
export const pageLimit = () =>
  z
    .number({ error: requiredOr('must be an integer from 1 to 100') })
    .int({ error: 'must be an integer from 1 to 100' })
    .min(1, { error: 'must be an integer from 1 to 100' })
    .max(100, { error: 'must be an integer from 1 to 100' })
    .default(20);

/** A string of `min` to `max` characters (surrounding spaces do not count and are dropped). */
export const text = (min: number, max: number) =>
  z
    .string({ error: requiredOr('must be a string') })
    .trim()
    .min(min, { error: min === 1 ? 'must not be empty' : `must be at least ${min} characters` })
    .max(max, { error: `must be at most ${max} characters` });

/** An http(s) URL. */
export const httpUrl = () =>
  z
    .string({ error: requiredOr('must be a string') })
    .max(2_048, { error: 'must be at most 2048 characters' })
    .regex(/^https?:\/\/\S+$/i, { error: 'must be an http(s) URL' })
    .refine((value) => URL.canParse(value), { error: 'must be an http(s) URL' });

/** An ISO 4217 currency code the runtime knows: three capital letters. */
export const currencyCode = () =>
  z
    .string({ error: requiredOr('must be an ISO 4217 currency code such as USD') })
    .regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code such as USD (three capital letters)' })
    .refine(isCurrency, { error: 'is not an ISO 4217 currency code' });

/**
 * A decimal amount as the push body carries it: a JSON number (`24.95`) or a decimal string
 * (`"24.95"`). It is turned into minor units from its decimal text, never by float math.
 */
export const decimalAmount = () =>
  z
    .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)], { error: requiredOr('must be a decimal amount such as 12.50') })
    .meta({ description: 'A decimal amount in major units, e.g. 24.95 or "24.95" (a dot as the separator).' });
