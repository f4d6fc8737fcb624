import { randomUUID } from 'node:crypto';

const plain = /^[\w.:-]{1,128}$/;

/**
 * The id of a request: the caller's `x-request-id` when it is plain, else a new one.
 * @example requestIdOf(req.headers['x-request-id']) // 'e6f1…'
 */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && plain.test(header) ? header : randomUUID();
}
