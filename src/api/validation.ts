import type { z } from 'zod';
import { EngineError } from '../core/errors.js';

type Issue = z.core.$ZodIssue;

/**
 * A field path as a merchant writes it: `params.elements[0].price`.
 * @example fieldPath(['params', 'elements', 0, 'price']) // 'params.elements[0].price'
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/**
 * The first problem of a failed parse as one line that names the field:
 * `status: must be one of 0, 10, …`, `limt: unknown field`, `params.summary.total_cost: required`.
 */
export function describeIssue(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') return `${fieldPath([...issue.path, issue.keys[0] ?? ''])}: unknown field`;
  const field = fieldPath(issue.path);
  if (!field) return issue.code === 'invalid_type' ? 'the body must be a JSON object' : `the body ${issue.message}`;
  return `${field}: ${issue.message}`;
}

/** A missing field reads "required" wherever a schema has no message of its own. */
const requiredByDefault = (issue: { code?: string; input?: unknown }): string | undefined =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined;

/**
 * Parses a request body, or throws `EngineError('BAD_REQUEST')` naming the first wrong field.
 * @example parseInput(getOrderSchema, { id: 'x' }) // throws "id: must be a positive integer"
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value, { error: requiredByDefault });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new EngineError('BAD_REQUEST', issue ? describeIssue(issue) : 'the body is invalid');
}
