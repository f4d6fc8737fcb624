import { z } from 'zod';
import type { ApiMethod } from './method.js';
import { sendTemplateSchema } from './schemas.js';

/** A JSON Schema object as OpenAPI 3.1 embeds it (JSON Schema 2020-12). */
type JsonSchema = Record<string, unknown>;

/** The OpenAPI 3.1 document of the merchant API. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: Record<string, unknown>;
  readonly security: readonly Record<string, readonly string[]>[];
}

/** A zod schema as JSON Schema 2020-12: the request side for bodies, the answer side for `data`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const requestIdHeader = { 'x-request-id': { description: 'The request id (the caller’s own when it sent one); logs carry it.', schema: { type: 'string' } } };
const failRef = { $ref: '#/components/schemas/Fail' };
const templateErrorRef = { $ref: '#/components/schemas/SendTemplateError' };

const failures = (ref: JsonSchema, statuses: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      {
        description,
        headers: status === '429' ? { ...requestIdHeader, 'retry-after': { description: 'Seconds until a request may pass.', schema: { type: 'integer' } } } : requestIdHeader,
        content: json(ref),
      },
    ]),
  );

const methodFailures = {
  '400': 'Malformed JSON, or a field that is missing, unknown or invalid (the message names it).',
  '401': 'No valid token.',
  '404': 'Unknown method, or unknown order, customer, task or message.',
  '409': 'A change that is not allowed (a status that would go down, a task that already ran).',
  '429': 'Too many requests for this token.',
  '500': 'A fault of the server (a generic message; the log has the request id).',
};

/**
 * The OpenAPI 3.1 document of the merchant API, generated from the methods' own zod
 * schemas (the ones that validate the calls): every method's path, its request body, its
 * envelope answers, and the bearer token scheme.
 * @example merchantOpenApi(merchantMethods).paths['/api/v1/getOrder']
 */
export function merchantOpenApi(methods: ReadonlyMap<string, ApiMethod>): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, method] of methods) {
    const data = jsonSchema(method.output, 'output');
    paths[`/api/v1/${name}`] = {
      post: {
        operationId: name,
        summary: method.summary,
        ...(method.description ? { description: method.description } : {}),
        requestBody: { required: true, content: json(jsonSchema(method.input, 'input')) },
        responses: {
          '200': {
            description: 'Done.',
            headers: requestIdHeader,
            content: json({
              type: 'object',
              properties: { status: { const: 'success' }, data },
              required: ['status', 'data'],
              additionalProperties: false,
            }),
          },
          ...failures(failRef, methodFailures),
        },
      },
    };
  }
  paths['/api/v1/send_template'] = {
    post: {
      operationId: 'send_template',
      summary: 'Pushes an order receipt or a shipping update to a customer who wrote to the shop; the same request.id again sends nothing.',
      requestBody: { required: true, content: json(jsonSchema(sendTemplateSchema, 'input')) },
      responses: {
        '200': {
          description: 'Stored for sending.',
          headers: requestIdHeader,
          content: json({
            type: 'object',
            properties: { request_id: { type: ['string', 'integer'] }, recipient_id: { type: 'string' } },
            required: ['request_id', 'recipient_id'],
          }),
        },
        ...failures(templateErrorRef, {
          '400': 'Code 100: the body or params fail validation (the message names the field).',
          '401': 'Code 190: no valid token.',
          '404': 'Code 10010: Recipient not found.',
          '429': 'Code 4: too many requests for this token.',
          '500': 'Code 2: a fault of the server.',
        }),
      },
    },
  };
  paths['/api/openapi.json'] = {
    get: { operationId: 'openapi', summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'orderly merchant API',
      version: '1',
      description:
        'POST /api/v1/<method> with a JSON body. The token goes in `Authorization: Bearer <token>`, or as the last path segment: /api/v1/<method>/<token>. ' +
        'Unknown fields are refused (400). Amounts are integers in minor units of the order currency; times are Unix seconds.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A MERCHANT_TOKEN (or the token as the last path segment).' } },
      schemas: {
        Fail: {
          type: 'object',
          properties: { status: { enum: ['fail', 'error'] }, message: { type: 'string' } },
          required: ['status', 'message'],
        },
        SendTemplateError: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                code: { type: 'integer' },
                error_subcode: { type: 'integer' },
                type: { type: 'string' },
                message: { type: 'string' },
                request_id: { type: ['string', 'integer', 'null'] },
              },
              required: ['code', 'error_subcode', 'type', 'message', 'request_id'],
            },
          },
          required: ['error'],
        },
      },
    },
    security: [{ bearer: [] }],
  };
}
