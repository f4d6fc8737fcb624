import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenCheck, presentedToken } from '../../src/api/auth.js';
import { methodFailure } from '../../src/api/envelope.js';
import { createRateLimiter } from '../../src/api/rate-limit.js';
import { createLogger } from '../../src/server/logger.js';
import { call, startShop, tokens, WebCustomer, type Shop } from './harness.js';

describe('the token check', () => {
  it('names the configured token that matches, and refuses anything else', () => {
    const check = createTokenCheck(['alpha-token', 'beta-token']);
    expect(check('alpha-token')).toEqual({ name: 'token#1' });
    expect(check('beta-token')).toEqual({ name: 'token#2' });
    for (const wrong of ['alpha', 'alpha-token ', 'alpha-tokenx', 'ALPHA-TOKEN', '', undefined]) expect(check(wrong)).toBeNull();
  });

  it('refuses every token when none is configured', () => {
    expect(createTokenCheck([])('anything')).toBeNull();
    expect(createTokenCheck([])('')).toBeNull();
  });

  it('reads the token from the path first, then from a Bearer header', () => {
    expect(presentedToken('in-path', 'Bearer in-header')).toBe('in-path');
    expect(presentedToken(undefined, 'Bearer in-header')).toBe('in-header');
    expect(presentedToken(undefined, 'bearer   in-header ')).toBe('in-header');
    expect(presentedToken(undefined, 'Basic dXNlcjpwdw==')).toBeUndefined();
    expect(presentedToken(undefined, undefined)).toBeUndefined();
  });
});

describe('the rate limiter', () => {
  it('lets a burst of the per-minute limit through, then one request per refill', () => {
    let now = 0;
    const limiter = createRateLimiter(3, () => now);
    expect([1, 2, 3].map(() => limiter.take('token#1').allowed)).toEqual([true, true, true]);
    expect(limiter.take('token#1')).toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect(limiter.take('token#2').allowed).toBe(true);
    now += 19_000;
    expect(limiter.take('token#1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(limiter.take('token#1').allowed).toBe(true);
    expect(limiter.take('token#1').allowed).toBe(false);
  });
});

describe('failures', () => {
  it('answer a fault with a generic message, never its own text or stack', () => {
    const fault = methodFailure(new Error('ENOENT: /srv/orderly/data/orderly.db at Store.open (sqlite.ts:12)'));
    expect(fault).toEqual({ httpStatus: 500, body: { status: 'error', message: 'internal server error' }, fault: true });
  });
});

describe('the merchant API over HTTP', () => {
  let shop: Shop;
  const lines: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    shop = await startShop({}, { logger: createLogger({ level: 'debug', destination }) });
  });
  afterAll(() => shop?.close());

  it('takes either token, as a Bearer header or as the last path segment', async () => {
    for (const token of tokens) {
      expect((await call(shop.url, 'listOrders', {}, { token })).status).toBe(200);
      expect((await call(shop.url, 'listOrders', {}, { token, inPath: true })).status).toBe(200);
    }
  });

  it('answers 401 without a valid token, also for unknown methods, with an envelope and a request id', async () => {
    for (const token of [null, 'wrong', tokens[0].slice(0, -1)]) {
      for (const inPath of [false, true]) {
        const answer = await call(shop.url, 'noSuchMethod', {}, { token, inPath });
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ status: 'fail', message: expect.stringContaining('token') });
        expect(answer.headers.get('x-request-id')).toBeTruthy();
      }
    }
  });

  it('answers 404 for an unknown method, 405 for GET, and keeps the caller’s request id', async () => {
    const unknown = await call(shop.url, 'deleteEverything', {}, { token: tokens[1] });
    expect(unknown).toMatchObject({ status: 404, body: { status: 'fail', message: 'unknown method deleteEverything' } });
    const get = await fetch(`${shop.url}/api/v1/getOrder`, { headers: { authorization: `Bearer ${tokens[1]}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const traced = await fetch(`${shop.url}/api/v1/listOrders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[1]}`, 'x-request-id': 'merchant-trace-7' },
      body: '{}',
    });
    expect(traced.headers.get('x-request-id')).toBe('merchant-trace-7');
  });

  it('answers a body that is not an object with 400', async () => {
    expect((await call(shop.url, 'getOrder', undefined, { raw: '[1, 2]', token: tokens[1] })).body).toEqual({
      status: 'fail',
      message: 'the body must be a JSON object',
    });
  });

  it('never logs a token, and logs each request with its id', async () => {
    const customer = await WebCustomer.open(shop.url);
    await customer.say('hi');
    await call(shop.url, 'findCustomer', { channel: 'web', external_id: customer.user }, { token: tokens[1], inPath: true });
    await call(shop.url, 'findCustomer', { channel: 'web', external_id: 'nobody' }, { token: tokens[1] });
    const text = lines.join('\n');
    for (const token of tokens) expect(text).not.toContain(token);
    const requests = lines.map((line) => JSON.parse(line) as { msg?: string; path?: string; requestId?: string }).filter((line) => line.msg === 'request' && line.path?.startsWith('/api/v1/findCustomer'));
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const line of requests) expect(line.requestId).toBeTruthy();
    expect(requests.map((line) => line.path)).toContain('/api/v1/findCustomer/[redacted]');
  });
});

describe('a server with API_RATE_LIMIT=3', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ API_RATE_LIMIT: '3' });
  });
  afterAll(() => shop?.close());

  it('limits each token on its own: 429 with Retry-After, while the other token still passes', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call(shop.url, 'listOrders', {}, { token: tokens[0] }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    const limited = answers[3]!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(limited.body).toEqual({ status: 'fail', message: 'too many requests: at most 3 a minute per token; retry in 20 s' });
    expect((await call(shop.url, 'listOrders', {}, { token: tokens[1] })).status).toBe(200);
  });
});

describe('a server without MERCHANT_TOKEN', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ MERCHANT_TOKEN: '' });
  });
  afterAll(() => shop?.close());

  it('answers every call 401', async () => {
    for (const method of ['listOrders', 'retryNotifications', 'send_template', 'nope']) {
      for (const token of [tokens[0], '', 'undefined']) expect((await call(shop.url, method, {}, { token })).status).toBe(401);
    }
  });
});
