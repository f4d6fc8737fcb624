import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookChannel } from '../../src/core/channel.js';
import type { InboundEventInput } from '../../src/core/events.js';
import { createWebhookFastPath } from '../../src/server/webhook-receiver.js';
import { createLogger } from '../../src/server/logger.js';

describe('the webhook fast path', () => {
  const ingested: InboundEventInput[][] = [];
  const parsed: unknown[] = [];
  const webhook: WebhookChannel = {
    name: 'acme',
    ack: 'EVENT_RECEIVED',
    verifyChallenge: () => null,
    verify: ({ rawBody, headers }) => headers['x-signature'] === `len=${rawBody.length}`,
    parse(body, now) {
      parsed.push(body);
      return { events: [{ type: 'text', id: `acme:${parsed.length}`, key: 'conv:acme:shop:u1', at: now, text: 'hi' }], ignored: 0 };
    },
  };
  const fast = createWebhookFastPath({
    webhooks: [webhook],
    engine: { ingest: async (events) => (ingested.push([...events]), { accepted: events.length, duplicates: 0 }) },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 64,
    clock: () => 7,
  });
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => fast(req, res) || res.writeHead(299).end('express'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  const post = (body: string, signature = `len=${Buffer.byteLength(body)}`, path = '/webhooks/acme') =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'x-signature': signature }, body });

  it('stores a signed webhook and acknowledges it with the channel’s answer', async () => {
    const response = await post('{"entry":[1]}');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('EVENT_RECEIVED');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(ingested.at(-1)).toEqual([{ type: 'text', id: `acme:${parsed.length}`, key: 'conv:acme:shop:u1', at: 7, text: 'hi' }]);
  });

  it('checks the signature before reading the JSON, then refuses malformed JSON', async () => {
    const before = parsed.length;
    const wrong = await post('{"entry":', 'len=1');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ status: 'fail', message: 'the webhook signature is missing or wrong' });
    const malformed = await post('{"entry":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ status: 'fail', message: 'malformed JSON' });
    expect(parsed.length).toBe(before);
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(100) });
    expect((await post(big)).status).toBe(413);
    const streamed = await fetch(`${url}/webhooks/acme`, {
      method: 'POST',
      headers: { 'x-signature': 'len=0' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('leaves every other request to express', async () => {
    expect((await fetch(`${url}/webhooks/acme`)).status).toBe(299);
    expect((await post('{}', undefined, '/webhooks/other')).status).toBe(299);
  });
});
