import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChannel } from '../../src/channels/web/index.js';
import type { Engine } from '../../src/core/engine-types.js';
import { EngineError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { createWebhookRoutes } from '../../src/server/webhook-routes.js';
import type { InboundEventInput } from '../../src/core/events.js';
import type { WebhookChannel } from '../../src/core/channel.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const silent = createLogger({ level: 'silent' });

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const dir = mkdtempSync(join(tmpdir(), 'orderly-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['memory', 'memory:'],
  ['sqlite', `sqlite:${join(dir, 'orderly.db')}`],
])('the server on the %s store', (_name, databaseUrl) => {
  let server: RunningServer;
  let url: string;

  beforeAll(async () => {
    server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl }), { logger: silent });
    url = server.url;
  });
  afterAll(() => server.close());

  it('listens on the port it was given, with the real port in its url', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url.endsWith(':0')).toBe(false);
  });

  it('answers /healthz with ok and a request id', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/);
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('keeps a caller-given request id', async () => {
    const response = await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'trace-42' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
  });

  it('answers a web customer "hi" with a reply through the long poll, and counts it in /metrics', async () => {
    const session = await fetch(`${url}/web/v1/sessions`, { method: 'POST' });
    expect(session.status).toBe(201);
    const { user } = (await session.json()) as { user: string };
    expect(user).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const sent = await post(`${url}/web/v1/messages`, { user, text: 'hi', id: 'm1' });
    expect(sent.status).toBe(202);
    expect(await json(sent)).toEqual({ accepted: true, duplicate: false });

    const polled = await fetch(`${url}/web/v1/messages?user=${user}&after=0&wait=10`);
    expect(polled.status).toBe(200);
    const log = (await polled.json()) as { messages: { id: number; at: number; message: { kind: string } }[]; cursor: number };
    expect(log.messages.length).toBeGreaterThan(0);
    expect(log.cursor).toBe(log.messages.at(-1)!.id);
    expect(['text', 'products']).toContain(log.messages[0]!.message.kind);

    const again = await post(`${url}/web/v1/messages`, { user, text: 'hi', id: 'm1' });
    expect(await json(again)).toEqual({ accepted: false, duplicate: true });

    const after = await fetch(`${url}/web/v1/messages?user=${user}&after=${log.cursor}`);
    expect(await json(after)).toEqual({ messages: [], cursor: log.cursor });

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^orderly_events_ingested_total [1-9]/m);
    expect(text).toMatch(/^orderly_events_duplicate_total [1-9]/m);
    expect(text).toMatch(/^orderly_events_processed_total\{type="text",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^orderly_effects_dispatched_total\{type="reply",outcome="sent"\} [1-9]/m);
    expect(text).toMatch(/^orderly_processing_seconds_count [1-9]/m);
    expect(text).toMatch(/^orderly_dispatch_seconds_count [1-9]/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('answers malformed JSON with 400 and no stack trace', async () => {
    const response = await post(`${url}/web/v1/messages`, '{"user": "abcdefgh", "text": ');
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ status: 'fail', message: 'malformed JSON in the request body' });
    expect(body).not.toMatch(/SyntaxError|at .*\.js|node_modules/);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await post(`${url}/web/v1/messages`, { user: 'abcdefgh', text: 'x'.repeat(300 * 1024) });
    expect(response.status).toBe(413);
    expect(await json(response)).toMatchObject({ status: 'fail', message: expect.stringMatching(/too large/) });
  });

  it.each([
    [{ text: 'hi' }, /^user /],
    [{ user: 'short', text: 'hi' }, /^user must be 8-64 characters/],
    [{ user: 'abcdefgh' }, /^text is required/],
    [{ user: 'abcdefgh', text: '   ' }, /^text must not be empty/],
    [{ user: 'abcdefgh', payload: 42 }, /^payload must be a string/],
    [{ user: 'abcdefgh', text: 'hi', colour: 'red' }, /^unknown field colour/],
    [[1, 2], /must be a JSON object/],
  ])('refuses the body %j with 400 naming the field', async (body, message) => {
    const response = await post(`${url}/web/v1/messages`, body);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ status: 'fail', message: expect.stringMatching(message) });
  });

  it.each([
    ['', /^user /],
    ['user=abcdefgh&after=-1', /^after /],
    ['user=abcdefgh&wait=26', /^wait must be a number of seconds from 0 to 25/],
  ])('refuses the poll query %j with 400 naming the field', async (query, message) => {
    const response = await fetch(`${url}/web/v1/messages?${query}`);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ status: 'fail', message: expect.stringMatching(message) });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await fetch(`${url}/nowhere`);
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ status: 'fail', message: 'no route for GET /nowhere' });
  });
});

describe('closing the server', () => {
  it('ends a waiting long poll instead of waiting out its 25 seconds', async () => {
    const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'memory:' }), { logger: silent });
    const poll = fetch(`${server.url}/web/v1/messages?user=abcdefgh&wait=25`).then((response) => response.json());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.close();
    expect(await poll).toEqual({ messages: [], cursor: 0 });
  });

  it('fails to start with a STORE error when PostgreSQL cannot be reached', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://shop:pw@127.0.0.1:1/shop', DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
    await expect(startServer(config, { logger: silent })).rejects.toMatchObject({ code: 'STORE' });
  });
});

describe('createApp', () => {
  const errors: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (object) => void errors.push(object) };
  let unhealthy: string[] = [];
  const store = createMemoryStore();
  const engine: Engine = {
    store,
    ingest: () => Promise.resolve({ accepted: 1, duplicates: 0 }),
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    tasksChanged: () => Promise.resolve(),
    retryFailed: () => Promise.resolve(0),
    idle: () => Promise.resolve(),
    pruneHistory: () => Promise.resolve(0),
    unhealthyChannels: () => unhealthy,
  };
  const routes = express.Router();
  routes.post('/echo', (req, res) => {
    res.json({ parsed: req.body as unknown });
  });
  routes.get('/boom', () => {
    throw new Error('disk /var/secret/orderly.db is on fire');
  });
  routes.get('/rejects', async () => {
    throw new EngineError('NOT_FOUND', 'order 42 not found');
  });
  routes.get('/conflict', async () => {
    throw new EngineError('STORE', 'SQLITE_BUSY on table outbox');
  });
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = createApp({ engine, logger, metrics: createMetrics(), web: createWebChannel({ store, account: 'web' }), routes: [routes] });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('mounts later route modules, which see the parsed JSON body', async () => {
    const response = await post(`${url}/echo`, '{ "a" : 1,\n  "b": "ü" }');
    expect(await json(response)).toEqual({ parsed: { a: 1, b: 'ü' } });
  });

  it('answers an unexpected error with a generic 500 and logs it', async () => {
    const response = await fetch(`${url}/boom`);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ status: 'error', message: 'internal server error' });
    expect(body).not.toContain('secret');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ err: expect.any(Error), path: '/boom', requestId: response.headers.get('x-request-id') });
  });

  it('answers an EngineError from an async handler with its mapped status', async () => {
    const notFound = await fetch(`${url}/rejects`);
    expect(notFound.status).toBe(404);
    expect(await json(notFound)).toEqual({ status: 'fail', message: 'order 42 not found' });
    const store = await fetch(`${url}/conflict`);
    expect(store.status).toBe(500);
    expect(await json(store)).toEqual({ status: 'error', message: 'internal server error' });
  });

  it('answers /healthz with 503 while a channel is unhealthy', async () => {
    unhealthy = ['messenger'];
    const response = await fetch(`${url}/healthz`);
    unhealthy = [];
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ status: 'unhealthy', channels: ['messenger'] });
  });

  it('answers /healthz with 503 once the store is closed', async () => {
    const closedStore = createMemoryStore();
    await closedStore.close();
    const server = createApp({ engine: { ...engine, store: closedStore }, logger, metrics: createMetrics() }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
    server.close();
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ status: 'unhealthy', store: 'unavailable' });
  });
});

describe('createWebhookRoutes', () => {
  const ingested: InboundEventInput[][] = [];
  const parsed: unknown[] = [];
  const webhook: WebhookChannel = {
    name: 'acme',
    ack: 'EVENT_RECEIVED',
    verifyChallenge: (query) => (query['hub.verify_token'] === 'letmein' ? String(query['hub.challenge']) : null),
    verify: ({ rawBody, headers }) => headers['x-signature'] === `len=${rawBody.length}`,
    parse(body, now) {
      parsed.push(body);
      return { events: [{ type: 'text', id: 'acme:1', key: 'conv:acme:shop:u1', at: now, text: 'hi' }], ignored: 0 };
    },
  };
  const engine: Pick<Engine, 'ingest'> = {
    ingest: (events) => {
      ingested.push([...events]);
      return Promise.resolve({ accepted: events.length, duplicates: 0 });
    },
  };
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = createApp({
      engine: { ...(engine as Engine), store: createMemoryStore(), unhealthyChannels: () => [] },
      logger: silent,
      metrics: createMetrics({ defaultMetrics: false }),
      rawRoutes: [createWebhookRoutes({ webhooks: [webhook], engine, clock: () => 42 })],
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('answers the subscription handshake with the challenge as plain text, else 403', async () => {
    const ok = await fetch(`${url}/webhooks/acme?hub.mode=subscribe&hub.verify_token=letmein&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');
    expect((await fetch(`${url}/webhooks/acme?hub.verify_token=nope&hub.challenge=1`)).status).toBe(403);
  });

  it('refuses a wrong signature with 401 before parsing or storing anything', async () => {
    const response = await fetch(`${url}/webhooks/acme`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': 'len=0' },
      body: '{"entry":[]}',
    });
    expect(response.status).toBe(401);
    expect(parsed).toEqual([]);
    expect(ingested).toEqual([]);
  });

  it('checks the signature before reading the JSON: a wrong signature on garbage is 401, a right one 400', async () => {
    const garbage = '{"entry": [1, 2';
    const send = (signature: string) =>
      fetch(`${url}/webhooks/acme`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body: garbage });
    expect((await send('len=0')).status).toBe(401);
    const malformed = await send(`len=${Buffer.byteLength(garbage)}`);
    expect(malformed.status).toBe(400);
    expect(await json(malformed)).toEqual({ status: 'fail', message: 'malformed JSON' });
    expect(parsed).toEqual([]);
    expect(ingested).toEqual([]);
  });

  it('stores what a signed webhook says, then acknowledges it', async () => {
    const raw = '{"entry": [1, 2]}';
    const response = await fetch(`${url}/webhooks/acme`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `len=${Buffer.byteLength(raw)}` },
      body: raw,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('EVENT_RECEIVED');
    expect(parsed).toEqual([{ entry: [1, 2] }]);
    expect(ingested).toEqual([[{ type: 'text', id: 'acme:1', key: 'conv:acme:shop:u1', at: 42, text: 'hi' }]]);
  });
});
