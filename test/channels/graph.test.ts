import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendContext } from '../../src/core/channel.js';
import { DeliveryError } from '../../src/core/errors.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { createGraphClient } from '../../src/channels/graph/client.js';
import { graphError, graphNetworkError, waitHintMs } from '../../src/channels/graph/errors.js';
import { sendParts } from '../../src/channels/graph/parts.js';
import { createSignatureVerifier } from '../../src/channels/graph/signature.js';
import { verifySubscription } from '../../src/channels/graph/subscription.js';
import { splitText, truncate } from '../../src/channels/graph/text.js';
import { messagingWindowMs, planDelivery } from '../../src/channels/graph/window.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';

interface SignatureVector {
  app_secret: string;
  raw_body: string;
  header_value: string;
  reserialized_unescaped_body: string;
  tampered_header_value: string;
}

const vector = (channel: string): SignatureVector =>
  JSON.parse(readFileSync(new URL(`../fixtures/${channel}/signature_vector.json`, import.meta.url), 'utf8')) as SignatureVector;

const request = (body: string, signature?: string | string[]) => ({
  rawBody: Buffer.from(body, 'utf8'),
  headers: signature === undefined ? {} : { 'x-hub-signature-256': signature },
});

describe('X-Hub-Signature-256', () => {
  for (const channel of ['messenger', 'whatsapp']) {
    const v = vector(channel);
    const verify = createSignatureVerifier(v.app_secret);

    it(`accepts the ${channel} test vector over its raw bytes`, () => {
      expect(verify(request(v.raw_body, v.header_value))).toBe(true);
    });

    it(`refuses the ${channel} body re-serialized without the \\u escapes`, () => {
      expect(verify(request(v.reserialized_unescaped_body, v.header_value))).toBe(false);
    });

    it(`refuses the ${channel} tampered signature`, () => {
      expect(verify(request(v.raw_body, v.tampered_header_value))).toBe(false);
    });
  }

  const v = vector('messenger');
  const verify = createSignatureVerifier(v.app_secret);

  it('refuses a body with one flipped byte', () => {
    const bytes = Buffer.from(v.raw_body, 'utf8');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    expect(verify({ rawBody: bytes, headers: { 'x-hub-signature-256': v.header_value } })).toBe(false);
  });

  it('refuses a signature with one flipped hex digit', () => {
    const last = v.header_value.at(-1) === '0' ? '1' : '0';
    expect(verify(request(v.raw_body, `${v.header_value.slice(0, -1)}${last}`))).toBe(false);
  });

  it('refuses a request without the header', () => {
    expect(verify(request(v.raw_body))).toBe(false);
  });

  it('refuses the sha1 prefix and a prefix in capitals', () => {
    expect(verify(request(v.raw_body, v.header_value.replace('sha256=', 'sha1=')))).toBe(false);
    expect(verify(request(v.raw_body, v.header_value.replace('sha256=', 'SHA256=')))).toBe(false);
    expect(verify(request(v.raw_body, v.header_value.slice('sha256='.length)))).toBe(false);
  });

  it('refuses a signature of a different length, or with non-hex digits', () => {
    expect(verify(request(v.raw_body, v.header_value.slice(0, -2)))).toBe(false);
    expect(verify(request(v.raw_body, `${v.header_value}00`))).toBe(false);
    expect(verify(request(v.raw_body, `${v.header_value.slice(0, -1)}g`))).toBe(false);
  });

  it('refuses a repeated header', () => {
    expect(verify(request(v.raw_body, [v.header_value, v.header_value]))).toBe(false);
  });

  it('refuses the signature made with another secret', () => {
    expect(createSignatureVerifier('another secret')(request(v.raw_body, v.header_value))).toBe(false);
  });

  it('refuses every request when no app secret is configured', () => {
    expect(createSignatureVerifier(undefined)(request(v.raw_body, v.header_value))).toBe(false);
    expect(createSignatureVerifier('')(request(v.raw_body, v.header_value))).toBe(false);
  });
});

describe('the subscription handshake', () => {
  const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' };

  it('answers the challenge verbatim when the token matches', () => {
    expect(verifySubscription(query, 'verify-me')).toBe('1158201444');
  });

  it('reads a query parsed into nested objects too', () => {
    expect(verifySubscription({ hub: { mode: 'subscribe', verify_token: 'verify-me', challenge: 'abc' } }, 'verify-me')).toBe('abc');
  });

  it('refuses a wrong token, another mode, a missing challenge, or no configured token', () => {
    expect(verifySubscription({ ...query, 'hub.verify_token': 'verify-you' }, 'verify-me')).toBeNull();
    expect(verifySubscription({ ...query, 'hub.mode': 'unsubscribe' }, 'verify-me')).toBeNull();
    expect(verifySubscription({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me' }, 'verify-me')).toBeNull();
    expect(verifySubscription({ ...query, 'hub.verify_token': ['verify-me'] }, 'verify-me')).toBeNull();
    expect(verifySubscription(query, undefined)).toBeNull();
  });
});

const classify = (status: number, code?: number, subcode?: number, headers: Record<string, string> = {}, attempt = 0) =>
  graphError(status, code === undefined ? {} : { error: { code, error_subcode: subcode, message: `(#${code}) test` } }, headers, attempt).delivery;

describe('the Graph API error table', () => {
  it.each([
    ['429 without a code', 429, undefined, undefined],
    ['500 without a code', 500, undefined, undefined],
    ['503 without a code', 503, undefined, undefined],
    ['1 unknown error', 400, 1, undefined],
    ['2 service unavailable', 500, 2, undefined],
    ['4 app rate limit', 400, 4, undefined],
    ['17 user rate limit', 400, 17, undefined],
    ['32 page rate limit', 400, 32, undefined],
    ['613 custom rate limit', 400, 613, 2534040],
    ['80006 Messenger BUC limit', 400, 80006, undefined],
    ['80007 WABA rate limit', 400, 80007, undefined],
    ['130429 throughput', 400, 130429, undefined],
    ['131048 spam rate limit', 400, 131048, undefined],
    ['131056 pair rate limit', 400, 131056, undefined],
    ['131057 maintenance', 400, 131057, undefined],
  ])('retries %s', (_name, status, code, subcode) => {
    expect(classify(status, code, subcode)).toMatchObject({ retryable: true });
  });

  it.each([
    ['551 user unavailable', 551, 1545041, false],
    ['100/2018001 no matching user', 100, 2018001, false],
    ['100 invalid parameter', 100, undefined, false],
    ['10 permission', 10, undefined, false],
    ['10/2018108 cannot receive now', 10, 2018108, false],
    ['200 permission family', 230, undefined, false],
    ['368 policy block', 368, undefined, false],
    ['613/2018338 abusive tag use', 613, 2018338, false],
    ['2018300 handover', 2018300, undefined, false],
    ['131026 undeliverable', 131026, undefined, false],
    ['131051 unsupported type', 131051, undefined, false],
    ['131009 bad parameter value', 131009, undefined, false],
    ['131049 marketing limit', 131049, undefined, false],
    ['10/2018278 outside the window', 10, 2018278, true],
    ['10/2534022 outside the window', 10, 2534022, true],
    ['131047 re-engagement required', 131047, undefined, true],
  ])('does not retry %s', (_name, code, subcode, blocked) => {
    const delivery = classify(400, code, subcode);
    expect(delivery.retryable).toBe(false);
    expect(delivery.blocked ?? false).toBe(blocked);
    expect(delivery.unauthorized ?? false).toBe(false);
    expect(delivery.platformCode).toBe(subcode === undefined ? code : `${code}/${subcode}`);
  });

  it('keeps a permanent code permanent even on a 500', () => {
    expect(classify(500, 131026).retryable).toBe(false);
  });

  it('marks 190 and a bare 401 unauthorized, never retried', () => {
    expect(classify(400, 190, 460)).toMatchObject({ retryable: false, unauthorized: true, platformCode: '190/460' });
    expect(classify(401)).toMatchObject({ retryable: false, unauthorized: true });
  });

  it('fails an unknown code on a 4xx and retries it on a 5xx', () => {
    expect(classify(400, 999_999).retryable).toBe(false);
    expect(classify(502, 999_999).retryable).toBe(true);
  });

  it('honours Retry-After in seconds and as a date', () => {
    expect(classify(429, 4, undefined, { 'retry-after': '7' }).retryAfterMs).toBe(7_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(waitHintMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30_000);
  });

  it('honours estimated_time_to_regain_access in the usage headers (minutes)', () => {
    const usage = JSON.stringify({ '106540352242922': [{ type: 'messenger', call_count: 100, estimated_time_to_regain_access: 3 }] });
    expect(classify(400, 80006, undefined, { 'x-business-use-case-usage': usage }).retryAfterMs).toBe(180_000);
    expect(waitHintMs({ 'x-app-usage': '{"call_count":100}' })).toBeUndefined();
    expect(waitHintMs({ 'x-business-use-case-usage': 'not json' })).toBeUndefined();
  });

  it('backs the pair rate limit off 4^attempt seconds when the platform gives no hint', () => {
    expect(classify(400, 131056, undefined, {}, 0).retryAfterMs).toBe(1_000);
    expect(classify(400, 131056, undefined, {}, 2).retryAfterMs).toBe(16_000);
  });

  it('retries a network error', () => {
    const error = graphNetworkError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    expect(error.delivery.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('masks the token should a transport error quote the request URL', () => {
    const error = graphNetworkError(new Error('request to /v21.0/me/messages?access_token=EAAB-secret failed'), 'EAAB-secret');
    expect(error.message).not.toContain('EAAB-secret');
    expect(error.message).toContain('access_token=***');
  });
});

for (const transport of ['thread', 'inline'] as const) {
  describe(`the Graph API client (${transport} transport)`, () => {
    let graph: FakeGraphApi;
    beforeAll(async () => {
      graph = await startFakeGraphApi({ pageToken: 'secret-page-token' });
    });
    afterAll(async () => {
      await graph.close();
    });

    const post = async (token = 'secret-page-token', timeoutMs?: number) => {
      const client = createGraphClient({ baseUrl: graph.url, token, auth: 'query', transport, ...(timeoutMs ? { timeoutMs } : {}) });
      try {
        return await client.post('/me/messages', { recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'hi' } });
      } finally {
        await client.close();
      }
    };

    it('posts JSON to the versioned path and answers the JSON', async () => {
      graph.reset();
      const answer = await post();
      expect(answer).toMatchObject({ recipient_id: '1', message_id: expect.stringMatching(/^m_/) });
      expect(graph.requests[0]).toMatchObject({ path: new URL(graph.url).pathname + '/me/messages', query: { access_token: 'secret-page-token' } });
      expect(graph.requests[0]?.headers['content-type']).toBe('application/json');
    });

    it('sends a Bearer token when asked', async () => {
      graph.reset();
      const client = createGraphClient({ baseUrl: graph.url, token: 'bearer-token', auth: 'bearer', transport });
      await client.post('/106540352242922/messages', { messaging_product: 'whatsapp', to: '1', type: 'text', text: { body: 'x' } });
      await client.close();
      expect(graph.requests[0]?.headers.authorization).toBe('Bearer bearer-token');
      expect(graph.requests[0]?.query).toEqual({});
    });

    it('turns a 429 with Retry-After into a retryable error with the wait', async () => {
      graph.fail(graphFailures.rateLimited(3));
      await expect(post()).rejects.toMatchObject({ delivery: { retryable: true, retryAfterMs: 3_000, platformCode: 4 } });
    });

    it('retries a 500, and a 502 whose body is not JSON', async () => {
      graph.fail(graphFailures.serverError());
      await expect(post()).rejects.toMatchObject({ delivery: { retryable: true } });
      graph.fail(graphFailures.badGateway());
      await expect(post()).rejects.toMatchObject({ delivery: { retryable: true } });
    });

    it('marks a refused token unauthorized, and never shows the token', async () => {
      const error: unknown = await post('wrong-token').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).delivery).toMatchObject({ retryable: false, unauthorized: true, platformCode: 190 });
      expect(String((error as Error).message)).not.toContain('wrong-token');
    });

    // undici checks its timeouts on a coarse tick (about half a second): the fake is far slower than that.
    it('retries an answer that does not come in time', async () => {
      graph.fail(graphFailures.slow(2_000));
      await expect(post('secret-page-token', 100)).rejects.toMatchObject({ delivery: { retryable: true } });
    });

    it('retries when nothing listens', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
      });
      const client = createGraphClient({ baseUrl: `http://127.0.0.1:${port}/v21.0`, token: 'secret-page-token', auth: 'query', transport });
      const error: unknown = await client.post('/me/messages', {}).catch((caught: unknown) => caught);
      await client.close();
      expect((error as DeliveryError).delivery.retryable).toBe(true);
      expect(String((error as Error).message)).not.toContain('secret-page-token');
    });
  });
}

describe('text limits', () => {
  it('splits a long text at word boundaries, each piece within the limit', () => {
    const text = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    const pieces = splitText(text, 2000);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(2000);
    expect(pieces.join(' ')).toBe(text);
    for (const piece of pieces) expect(piece).toMatch(/^word\d+( word\d+)*$/);
  });

  it('prefers a line break, and cuts a word longer than the limit', () => {
    expect(splitText('first line\nsecond', 12)).toEqual(['first line', 'second']);
    expect(splitText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never cuts through a surrogate pair', () => {
    const pieces = splitText('😀'.repeat(6), 5);
    for (const piece of pieces) expect(piece).not.toMatch(/[\ud800-\udbff]$/);
    expect(pieces.join('')).toBe('😀'.repeat(6));
  });

  it('truncates with an ellipsis', () => {
    expect(truncate('Linen shirt, size M, white', 20)).toBe('Linen shirt, size M…');
    expect(truncate('short', 20)).toBe('short');
  });
});

describe('the 24-hour window', () => {
  const now = Date.parse('2026-01-02T12:00:00Z');
  const text: OutboundMessage = { kind: 'text', text: 'hi' };
  const update: OutboundMessage = { kind: 'text', text: 'news', intent: 'update' };
  const shipping: OutboundMessage = { kind: 'shipping_update', orderId: 7, status: 70, statusText: 'Sent', text: 'Your order is on its way', trackingUrl: 'https://track.example/7', intent: 'update' };
  const context = (lastInboundAt?: number): SendContext => ({ outboxId: 1, attempt: 0, ...(lastInboundAt === undefined ? {} : { lastInboundAt }) });
  const templates = { shippingUpdate: 'shipping_update_v1', language: 'en_US' };

  it('answers as a response inside the window, and sends news as an update', () => {
    expect(planDelivery('messenger', text, context(now - 60_000), now)).toEqual({ mode: 'response' });
    expect(planDelivery('messenger', update, context(now - 60_000), now)).toEqual({ mode: 'update' });
  });

  it('assumes an answer is inside the window when the last inbound time is unknown', () => {
    expect(planDelivery('messenger', text, context(), now)).toEqual({ mode: 'response' });
  });

  it('blocks free-form news and answers outside the window, and news of unknown timing', () => {
    for (const [message, last] of [
      [text, now - messagingWindowMs - 1],
      [update, now - messagingWindowMs],
      [update, undefined],
      [shipping, undefined],
    ] as const) {
      const error: unknown = (() => {
        try {
          return planDelivery('messenger', message, context(last), now);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).delivery).toMatchObject({ retryable: false, blocked: true });
    }
  });

  it('sends a shipping update outside the window as its template with the parameters', () => {
    expect(planDelivery('whatsapp', shipping, context(now - 2 * messagingWindowMs), now, templates)).toEqual({
      mode: 'template',
      template: { name: 'shipping_update_v1', language: 'en_US', parameters: ['7', 'Sent', 'https://track.example/7'] },
    });
  });

  it('names the package in the template when the update names no order of ours (a merchant push)', () => {
    const pushed: OutboundMessage = { ...shipping, orderId: 0, packageNumber: '1Z999AA1' };
    expect(planDelivery('messenger', pushed, context(now - 2 * messagingWindowMs), now, templates)).toMatchObject({
      template: { parameters: ['1Z999AA1', 'Sent', 'https://track.example/7'] },
    });
  });
});

describe('multi-part messages', () => {
  it('resumes a retried message after the parts that already went', async () => {
    const progress = new Map<number, number>();
    const sent: string[] = [];
    let failOn: string | undefined = 'b';
    const post = async (part: string) => {
      if (part === failOn) {
        failOn = undefined;
        throw new DeliveryError('busy', { retryable: true });
      }
      sent.push(part);
      return `id-${part}`;
    };
    await expect(sendParts(['a', 'b', 'c'], { outboxId: 9, attempt: 0 }, progress, post)).rejects.toBeInstanceOf(DeliveryError);
    expect(await sendParts(['a', 'b', 'c'], { outboxId: 9, attempt: 1 }, progress, post)).toEqual({ platformId: 'id-c' });
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(progress.size).toBe(0);
  });
});
