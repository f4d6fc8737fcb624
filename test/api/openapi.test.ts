import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { merchantMethods } from '../../src/api/methods/index.js';
import { addTaskSchema } from '../../src/api/schemas.js';
import { startShop, type Shop } from './harness.js';

interface Operation {
  operationId: string;
  requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, { content?: { 'application/json': { schema: Record<string, unknown> } } }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, { post?: Operation; get?: Operation }>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  security: Record<string, unknown[]>[];
}

describe('GET /api/openapi.json', () => {
  let shop: Shop;
  let doc: Document;

  beforeAll(async () => {
    shop = await startShop();
    const response = await fetch(`${shop.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
  });
  afterAll(() => shop?.close());

  const bodyOf = (method: string) => doc.paths[`/api/v1/${method}`]?.post?.requestBody?.content['application/json'].schema;

  it('is OpenAPI 3.1 with the bearer scheme on every method', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('lists every method of the router, and send_template, each with its body and envelope answers', async () => {
    const names = [...Object.keys(merchantMethods), 'send_template'];
    for (const name of names) {
      const operation = doc.paths[`/api/v1/${name}`]?.post;
      expect(operation?.operationId, name).toBe(name);
      expect(bodyOf(name), name).toBeDefined();
      expect(Object.keys(operation!.responses), name).toEqual(expect.arrayContaining(['200', '400', '401', '429', '500']));
    }
    // Every method listed is served: none answers 404 "unknown method".
    const documented = Object.keys(doc.paths).filter((path) => path.startsWith('/api/v1/')).map((path) => path.slice('/api/v1/'.length));
    expect(documented.sort()).toEqual(names.sort());
    const success = doc.paths['/api/v1/getOrder']!.post!.responses['200']!.content!['application/json'].schema;
    expect(success).toMatchObject({ properties: { status: { const: 'success' }, data: { properties: { status_text: { type: 'string' } } } } });
  });

  it('lists the ten status codes in the body of updateOrderStatus', () => {
    const status = (bodyOf('updateOrderStatus')!['properties'] as Record<string, { enum?: number[] }>)['status'];
    expect(status?.enum).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(bodyOf('updateOrderStatus')).toMatchObject({ required: ['id', 'status'], additionalProperties: false });
  });

  it('is generated from the same zod schemas that validate the calls', () => {
    const { $schema: _dialect, ...generated } = z.toJSONSchema(addTaskSchema, { io: 'input' }) as Record<string, unknown>;
    expect(bodyOf('addTask')).toEqual(generated);
    const receipt = JSON.stringify(bodyOf('send_template'));
    expect(receipt).toContain('Order Receipt Push');
    expect(receipt).toContain('total_cost');
    expect(receipt).toContain('detailed_tracking_url');
  });
});
