import { z } from 'zod';
import { EngineError } from '../../core/errors.js';

/** A web user id: url-safe, as `newWebUserId` makes them (a client may bring its own). */
export const webUserSchema = z
  .string({ error: 'is required (a string)' })
  .regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'must be 8-64 characters of A-Z, a-z, 0-9, _ and -' });

const clientId = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, { error: 'must be 1-128 characters of A-Z, a-z, 0-9, _, ., : and -' })
  .optional();

/** A text the customer typed. `id`, the client's own message id, makes a retried post count once. */
export const webTextSchema = z.strictObject({
  user: webUserSchema,
  id: clientId,
  text: z
    .string({ error: 'is required (a string), or send a payload' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(4_096, { error: 'is longer than 4096 characters' }),
});

/** A choice the customer tapped: its payload, and the title it showed. */
export const webPayloadSchema = z.strictObject({
  user: webUserSchema,
  id: clientId,
  payload: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(2_048, { error: 'is longer than 2048 characters' }),
  title: z.string({ error: 'must be a string' }).max(256, { error: 'is longer than 256 characters' }).optional(),
});

/** A posted web message, validated. */
export type WebMessage = z.infer<typeof webTextSchema> | z.infer<typeof webPayloadSchema>;

/** The long-poll query: whose messages, after which id, waiting how long (seconds, at most 25). */
export const webPollSchema = z.object({
  user: webUserSchema,
  after: z
    .string({ error: 'must be a message id (a non-negative integer)' })
    .regex(/^\d{1,15}$/, { error: 'must be a message id (a non-negative integer)' })
    .transform(Number)
    .default(0),
  wait: z
    .string({ error: 'must be a number of seconds from 0 to 25' })
    .regex(/^\d{1,2}(\.\d+)?$/, { error: 'must be a number of seconds from 0 to 25' })
    .transform(Number)
    .refine((seconds) => seconds <= 25, { error: 'must be a number of seconds from 0 to 25' })
    .default(0),
});

/** A long-poll query, validated: `after` and `wait` are numbers (wait in seconds). */
export type WebPoll = z.infer<typeof webPollSchema>;

/**
 * Parses a value with a schema, or throws `EngineError('BAD_REQUEST')` whose message names
 * the first wrong field (`text must not be empty`).
 * @example parseOrThrow(webPollSchema, req.query)
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new EngineError('BAD_REQUEST', 'the request is invalid');
  if (issue.code === 'unrecognized_keys') {
    throw new EngineError('BAD_REQUEST', `unknown field ${issue.keys.join(', ')}`);
  }
  const field = issue.path.map(String).join('.');
  throw new EngineError('BAD_REQUEST', field ? `${field} ${issue.message}` : `the body ${issue.message}`);
}

/**
 * A posted body as a web message: a payload when it has one, otherwise a text.
 * @example parseWebMessage({ user: 'u8Yx2f0c', text: 'hi' })
 */
export function parseWebMessage(body: unknown): WebMessage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EngineError('BAD_REQUEST', 'the body must be a JSON object {user, text} or {user, payload}');
  }
  return 'payload' in body ? parseOrThrow(webPayloadSchema, body) : parseOrThrow(webTextSchema, body);
}
