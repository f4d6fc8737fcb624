import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merchantMethods } from '../../src/api/methods/index.js';
import { startFakeCrm, type FakeCrm } from '../fakes/crm.js';
import { startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-api.js';
import {
  allOrders,
  apiData,
  capturedLines,
  leakedSecrets,
  postWebhook,
  purchaseScript,
  secrets,
  sleep,
  startFaultServer,
  waitUntil,
  type FaultServer,
  type WebhookName,
} from './harness.js';
import { apiBases, badBodies, bodyLimit, isJson, oversized, stackTrace, webhookBases, type BadBody } from './payloads.js';

/**
 * Random and mutated bodies at every webhook and every merchant API method, signed and
 * unsigned, with and without a token. Never a 5xx, never a stack trace, always a clear 4xx
 * JSON for the caller's mistake (or the platform's 200 for a signed webhook the channel
 * ignores), no order changed, Object.prototype untouched, and the server still answers.
 * Reproduce a failure with FAULT_SEED=<seed> (printed with it); FAULT_RUNS sets the runs.
 */

const seed = Number(process.env.FAULT_SEED ?? 112_125);
const runs = Number(process.env.FAULT_RUNS ?? 80);
const acks: Record<WebhookName, string> = { messenger: 'EVENT_RECEIVED', whatsapp: 'OK', telegram: 'ok' };
const contentTypes = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', ''] as const;

let graph: FakeGraphApi;
let telegram: FakeTelegram;
let crm: FakeCrm;
let shop: FaultServer;
let ordersBefore: string;
const prototypesBefore = { object: Object.getOwnPropertyNames(Object.prototype).sort(), array: Object.getOwnPropertyNames(Array.prototype).sort() };
const kinds = new Map<string, number>();
/** Answers by route class and status, printed at the end: the run reached both sides of every check. */
const statuses = new Map<string, number>();
const tally = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);

beforeAll(async () => {
  graph = await startFakeGraphApi({ pageToken: secrets.pageToken, whatsappToken: secrets.whatsappToken });
  telegram = await startFakeTelegram({ token: secrets.botToken });
  crm = await startFakeCrm();
  shop = await startFaultServer({ graph, telegram, crm });
  // Two orders, moved to the last status and paid: no call, valid or not, may change them now.
  for (const [index, psid] of ['7400000000000001', '7400000000000002'].entries()) {
    for (const step of purchaseScript(psid, 'earl-grey-100', `m_fuzz_buy_${index}`)) expect((await postWebhook(shop.url, 'messenger', step)).status).toBe(200);
  }
  await waitUntil(async () => (await allOrders(shop.url)).length === 2, 'two orders');
  for (const order of await allOrders(shop.url)) {
    await apiData(shop.url, 'updateOrderStatus', { id: order.id, status: 90 });
    await apiData(shop.url, 'paidOrder', { id: order.id });
  }
  ordersBefore = JSON.stringify(await allOrders(shop.url));
}, 60_000);

afterAll(async () => {
  console.log(`bad input (seed ${seed}, ${runs} runs a route): ${[...kinds].map(([kind, count]) => `${kind} ${count}`).join(', ')}`);
  console.log(`answers: ${[...statuses].sort().map(([key, count]) => `${key} ${count}`).join(', ')}`);
  await shop?.close();
  await Promise.all([graph?.close(), telegram?.close(), crm?.close()]);
  expect(leakedSecrets(capturedLines())).toEqual([]);
});

/** Runs a property with the suite's seed (plus the route's number, so routes differ); on failure, says how to run it again. */
async function check<T extends [unknown, ...unknown[]]>(route: number, property: fc.IAsyncProperty<T>): Promise<void> {
  const details = await fc.check(property, { seed: seed + route, numRuns: runs });
  if (!details.failed) return;
  const example = JSON.stringify(details.counterexample, (_key, value: unknown) =>
    typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…(${value.length})` : value instanceof Uint8Array ? `<${value.length} bytes>` : value,
  );
  throw new Error(
    `failed with FAULT_SEED=${seed} (fast-check seed ${details.seed}, path "${details.counterexamplePath}") on ${example?.slice(0, 1_500)}: ` +
      `${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
  );
}

const bodies = (bases: Parameters<typeof badBodies>[0]) =>
  fc.oneof({ weight: 9, arbitrary: badBodies(bases) }, { weight: 1, arbitrary: oversized(bases) });

/** Counts a body by its kind, without its numbers (`nested 812 deep` is `nested deep`). */
function count(body: BadBody): void {
  const kind = body.kind.replace(/ \(.*|\d+ /g, '');
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
}
const oversize = (body: BadBody) => Buffer.byteLength(body.raw) > bodyLimit;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** A refusal: JSON `{status: "fail", message}` with a message that says something. */
function expectFailEnvelope(answer: Answer): void {
  expect(answer.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['message', 'status']);
  expect(body['status']).toBe('fail');
  expect(typeof body['message'] === 'string' && body['message'].length > 0).toBe(true);
}

/** A refused push: the Graph-style `{error: {code, type, message, …}}`. */
function expectTemplateError(answer: Answer, code?: number): void {
  expect(answer.contentType).toMatch(/^application\/json/);
  const { error } = JSON.parse(answer.text) as { error?: Record<string, unknown> };
  expect(typeof error?.['code']).toBe('number');
  if (code !== undefined) expect(error?.['code']).toBe(code);
  expect(typeof error?.['message'] === 'string' && error['message'].length > 0).toBe(true);
  expect(typeof error?.['type']).toBe('string');
}

describe('bad input at the webhooks', () => {
  for (const [route, name] of (['messenger', 'whatsapp', 'telegram'] as const).entries()) {
    it(`never breaks the ${name} webhook, signed or not`, { timeout: 60_000 }, async () => {
      const signatures = fc.constantFrom('valid', 'valid', 'valid', 'none', `sha256=${'0'.repeat(64)}`, 'sha256=00', 'garbage');
      await check(
        route,
        fc.asyncProperty(bodies(webhookBases[name]), signatures, async (body, signature) => {
          count(body);
          const auth = name === 'telegram' && signature !== 'valid' && signature !== 'none' ? 'wrong-secret' : signature;
          const answer = await postWebhook(shop.url, name, body.raw, auth);
          tally(`webhook ${auth === 'valid' ? 'signed' : 'unsigned'} ${answer.status}`);
          expect(answer.status).toBeLessThan(500);
          expect(answer.text).not.toMatch(stackTrace);
          if (auth !== 'valid') {
            // The signature is checked first; only a body too large to read is refused before it.
            expect(answer.status).toBe(oversize(body) ? 413 : 401);
          } else if (oversize(body)) expect(answer.status).toBe(413);
          else if (!isJson(body.raw)) expect(answer.status).toBe(400);
          if (answer.status === 200) expect(answer.text).toBe(acks[name]);
          else expectFailEnvelope(answer);
        }),
      );
      expect((await fetch(`${shop.url}/healthz`)).status).toBe(200);
    });
  }
});

describe('bodies streamed without a length', () => {
  /** POSTs `size` bytes in 16 kB chunks with no Content-Length (chunked), or cuts the upload off half-way. */
  async function stream(path: string, headers: Record<string, string>, size: number, cut = false): Promise<Answer | 'cut'> {
    const chunk = new Uint8Array(16 * 1024).fill(0x61);
    let sent = 0;
    const controller = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      pull(stream) {
        if (cut && sent >= size / 2) {
          controller.abort();
          return;
        }
        if (sent >= size) return stream.close();
        sent += chunk.length;
        stream.enqueue(chunk);
      },
    });
    try {
      const init = { method: 'POST', headers, body, duplex: 'half', signal: controller.signal } as RequestInit;
      const response = await fetch(`${shop.url}${path}`, init);
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
    } catch (error) {
      if (cut) return 'cut';
      throw error;
    }
  }

  it('are refused with 413 once past the limit, and an upload cut off half-way harms nothing', { timeout: 30_000 }, async () => {
    const targets: [string, Record<string, string>][] = [
      ['/webhooks/messenger', { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }],
      ['/webhooks/whatsapp', {}],
      ['/webhooks/telegram', { 'x-telegram-bot-api-secret-token': secrets.webhookSecret }],
      ['/api/v1/listOrders', { authorization: `Bearer ${secrets.merchantToken}` }],
      ['/api/v1/send_template', { authorization: `Bearer ${secrets.merchantToken}` }],
    ];
    for (const [path, headers] of targets) {
      const answer = await stream(path, headers, bodyLimit + 64 * 1024);
      expect(answer === 'cut' ? 'cut' : answer.status, path).toBe(413);
      if (answer !== 'cut' && !path.endsWith('send_template')) expectFailEnvelope(answer);
      expect(await stream(path, headers, 128 * 1024, true)).toBe('cut');
    }
    expect((await fetch(`${shop.url}/healthz`)).status).toBe(200);
  });
});

describe('bad input at the merchant API', () => {
  const methods = [...Object.keys(merchantMethods), 'send_template'];

  it('has a valid body to mutate for every method', () => {
    expect(Object.keys(apiBases).sort()).toEqual([...methods].sort());
  });

  it('answers 404 to unknown methods, the names of Object.prototype included, and 405 to other verbs', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'getorder', 'getOrder%00', '..%2fhealthz', 'x'.repeat(2_000)]) {
      const response = await fetch(`${shop.url}/api/v1/${name}`, { method: 'POST', headers: { authorization: `Bearer ${secrets.merchantToken}` }, body: '{}' });
      const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
      expect(answer.status, name.slice(0, 40)).toBe(404);
      expect(answer.text).not.toMatch(stackTrace);
      expectFailEnvelope(answer);
    }
    for (const verb of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(`${shop.url}/api/v1/getOrder`, { method: verb, headers: { authorization: `Bearer ${secrets.merchantToken}` } });
      expect(response.status, verb).toBe(405);
      expectFailEnvelope({ status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() });
    }
  });

  for (const [index, method] of methods.entries()) {
    it(`never breaks ${method}, with or without a token`, { timeout: 60_000 }, async () => {
      const auths = fc.constantFrom('bearer', 'bearer', 'bearer', 'path', 'none', 'wrong');
      await check(
        100 + index,
        fc.asyncProperty(bodies(apiBases[method]!), auths, fc.constantFrom(...contentTypes), async (body, auth, contentType) => {
          count(body);
          const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
          if (auth === 'bearer') headers['authorization'] = `Bearer ${secrets.merchantToken}`;
          if (auth === 'wrong') headers['authorization'] = `Bearer ${secrets.merchantToken}x`;
          const path = auth === 'path' ? `/api/v1/${method}/${secrets.merchantToken}` : `/api/v1/${method}`;
          const response = await fetch(`${shop.url}${path}`, { method: 'POST', headers, body: body.raw });
          const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
          tally(`api ${auth === 'bearer' || auth === 'path' ? 'with token' : 'no token'} ${answer.status}`);
          expect(answer.status).toBeLessThan(500);
          expect(answer.text).not.toMatch(stackTrace);
          const template = method === 'send_template';
          if (auth === 'none' || auth === 'wrong') {
            // The token is checked before the body is read: no body, however bad, gets past it.
            expect(answer.status).toBe(401);
            if (template) expectTemplateError(answer, 190);
            else expectFailEnvelope(answer);
            return;
          }
          // An empty body reads as `{}` (a bare `curl -X POST`); anything else that is not JSON is refused.
          const empty = Buffer.byteLength(body.raw) === 0;
          if (oversize(body)) expect(answer.status).toBe(413);
          else if (!isJson(body.raw) && !empty && !contentType.includes('utf-16')) expect(answer.status).toBe(400);
          if (answer.status === 200) {
            const ok = JSON.parse(answer.text) as Record<string, unknown>;
            if (template) expect(Object.keys(ok).sort()).toEqual(['recipient_id', 'request_id']);
            else expect(ok['status']).toBe('success');
          } else if (template) expectTemplateError(answer);
          else expectFailEnvelope(answer);
        }),
      );
      expect((await fetch(`${shop.url}/healthz`)).status).toBe(200);
    });
  }
});

describe('after all the bad input', () => {
  it('still answers, changed no order, and left Object.prototype alone', { timeout: 30_000 }, async () => {
    // Let whatever the valid bodies set off finish: replies, tasks, notifications.
    let seen = -1;
    while (graph.requests.length + telegram.requests.length !== seen) {
      seen = graph.requests.length + telegram.requests.length;
      await sleep(750);
    }
    const health = await fetch(`${shop.url}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.stringify(await allOrders(shop.url))).toBe(ordersBefore);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypesBefore.object);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(prototypesBefore.array);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Both sides of every check were reached: accepted and refused, signed and not, with and without a token.
    for (const key of ['webhook signed 200', 'webhook signed 400', 'webhook signed 413', 'webhook unsigned 401', 'api with token 200', 'api with token 400', 'api with token 404', 'api with token 413', 'api no token 401']) {
      expect(statuses.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    // Every kind of bad body was thrown (a generator that stopped producing one would go unnoticed).
    expect([...kinds.keys()].sort()).toEqual(
      ['array', 'empty', 'huge string', 'invalid UTF-8', 'nested deep', 'null', 'number', 'over the limit', 'prototype key __proto__',
        'prototype key constructor', 'prototype key prototype', 'random JSON', 'random bytes', 'string', 'truncated JSON', 'unicode', 'valid', 'wrong type'].sort(),
    );
    // No fault of the server's own, in a request or in the background (a flow, a send, the store).
    const faults = shop.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(faults.map((line) => line.slice(0, 400))).toEqual([]);
    // Whatever the shop sent in answer to odd input, the platforms took it as well formed.
    const refusedByGraph = graph.requests.filter((request) => request.status >= 400);
    expect(refusedByGraph.map((request) => JSON.stringify(request.answer))).toEqual([]);
    // (Queries from the fixtures were never opened at the fake, so answering them is refused there: not a send.)
    const refusedByTelegram = telegram.requests.filter((request) => request.status >= 400 && request.method.startsWith('send'));
    expect(refusedByTelegram.map((request) => `${request.method}: ${JSON.stringify(request.answer)}`)).toEqual([]);
  });
});
