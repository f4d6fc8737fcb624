import type { z } from 'zod';
import type { Engine } from '../core/engine-types.js';
import type { Logger } from '../core/logger.js';
import type { Caller } from './auth.js';
import type { KeyedLock } from './keyed-lock.js';
import { parseInput } from './validation.js';

/** What a method runs with: the engine (and its store), the time, and who asked. */
export interface MethodContext {
  readonly engine: Engine;
  readonly clock: () => number;
  /** The request's `x-request-id`: in every log line of the call. */
  readonly requestId: string;
  readonly caller: Caller;
  readonly logger: Logger;
  /**
   * Runs calls about one thing (an order) one at a time on this instance, so a method's
   * check, change and re-read are not interleaved with another call's.
   */
  readonly serial: KeyedLock;
}

/** One method of the merchant API, with its types erased for the router's table. */
export interface ApiMethod {
  readonly summary: string;
  readonly description?: string;
  /** The request body (the router validates with it; the OpenAPI document shows it). */
  readonly input: z.ZodType;
  /** The `data` of a successful answer. */
  readonly output: z.ZodType;
  /** Validates the body, then runs the method. */
  call(body: unknown, context: MethodContext): Promise<unknown>;
}

/**
 * A method: its schemas, and what it does with a valid body.
 * @example
 * export const getOrder = defineMethod({
 *   summary: 'An order',
 *   input: getOrderSchema,
 *   output: orderViewSchema,
 *   run: async ({ id }, { engine }) => orderView(await mustFindOrder(engine.store, id)),
 * });
 */
export function defineMethod<I extends z.ZodType, O extends z.ZodType>(definition: {
  readonly summary: string;
  readonly description?: string;
  readonly input: I;
  readonly output: O;
  run(input: z.output<I>, context: MethodContext): Promise<z.input<O>>;
}): ApiMethod {
  return {
    summary: definition.summary,
    ...(definition.description ? { description: definition.description } : {}),
    input: definition.input,
    output: definition.output,
    call: (body, context) => definition.run(parseInput(definition.input, body), context),
  };
}
