import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minorUnits } from '../../src/api/amounts.js';
import { createMerchantApi } from '../../src/api/router.js';
import { receiptParamsSchema, shippingParamsSchema } from '../../src/api/schemas.js';
import { receiptPush, shippingPush, type PushTexts } from '../../src/api/template-messages.js';
import type { Engine } from '../../src/core/engine-types.js';
import type { InboundEventInput } from '../../src/core/events.js';
import type { Address } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import { startFakeGraphApi, type FakeGraphApi, type RecordedRequest } from '../fakes/graph-api.js';
import { ofKind, startShop, tokens, WebCustomer, type Shop } from './harness.js';

/**
 * `POST /api/v1/send_template` on the real server with Messenger pointed at the fake Graph
 * API: a customer known because they wrote through a signed webhook gets the pushed receipt.
 */

const appSecret = 'send-template-app-secret';
const pageToken = 'send-template-page-token';
const page = '106540352242922';
const psid = '7200000000000001';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/messenger/${name}.json`, import.meta.url), 'utf8')) as T;

/** The Send API receipt of the fixture, as the contract's push params (the template's own keys left out). */
const receiptRequest = fixture<{ message: { attachment: { payload: Record<string, unknown> } } }>('send_receipt_request');
const { template_type: _type, sharable: _sharable, merchant_name: _merchant, ...receiptParams } = receiptRequest.message.attachment.payload;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function push(url: string, body: unknown, token: string | null = tokens[1]): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1/send_template`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const receiptBody = (id: string, recipient = psid, params: Record<string, unknown> = receiptParams, pageId: string | undefined = page) => ({
  request: { method: 'send_template', id, ...(pageId ? { page_id: pageId } : {}), template_name: 'Order Receipt Push' },
  recipient: { id: recipient },
  params,
});

describe('send_template', () => {
  let graph: FakeGraphApi;
  let shop: Shop;

  const to = (user: string) => (request: RecordedRequest) => (request.body as { recipient?: { id?: string } }).recipient?.id === user;
  const receiptsTo = (user: string) => graph.requests.filter((request) => to(user)(request) && JSON.stringify(request.body).includes('"template_type":"receipt"'));

  beforeAll(async () => {
    graph = await startFakeGraphApi({ pageToken });
    shop = await startShop({ META_APP_SECRET: appSecret, GRAPH_API_URL: graph.url, MESSENGER_PAGE_TOKEN: pageToken });
    // The customer writes to the page through a signed webhook: from then on the shop knows them.
    const webhook = fixture<{ entry: { time: number; messaging: { sender: { id: string }; timestamp: number; message: { mid: string } }[] }[] }>('text_message');
    const event = webhook.entry[0]!.messaging[0]!;
    event.sender.id = psid;
    event.timestamp = Date.now();
    event.message.mid = `m_push_${process.pid}`;
    webhook.entry[0]!.time = Date.now();
    const raw = JSON.stringify(webhook);
    const signature = `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
    const delivered = await fetch(`${shop.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(delivered.status).toBe(200);
    await graph.waitFor(to(psid));
  });
  afterAll(async () => {
    await shop?.close();
    await graph?.close();
  });

  it('reaches a Messenger customer as a receipt template with the same fields', async () => {
    const answer = await push(shop.url, receiptBody('push-receipt-1'));
    expect(answer).toEqual({ status: 200, body: { request_id: 'push-receipt-1', recipient_id: psid } });
    const [sent] = await graph.waitFor((request) => receiptsTo(psid).includes(request));
    expect(sent!.status).toBe(200);
    // Every field the push named, as Messenger's receipt template takes it (merchant_name is not a push param).
    expect((sent!.body as { message: { attachment: { payload: unknown } } }).message.attachment.payload).toStrictEqual({
      template_type: 'receipt',
      sharable: false,
      ...receiptParams,
    });
  });

  it('sends the same request.id once, and answers it the same', async () => {
    const first = await push(shop.url, receiptBody('push-receipt-2'));
    await graph.waitFor((request) => receiptsTo(psid).includes(request), 2);
    const again = await push(shop.url, receiptBody('push-receipt-2'));
    expect(again).toEqual(first);
    await pause(800);
    expect(receiptsTo(psid)).toHaveLength(2);
  });

  it('answers 10010 for a recipient the shop does not know, and sends nothing', async () => {
    const before = graph.requests.length;
    const unknown = await push(shop.url, receiptBody('push-unknown', '7299999999999999'));
    expect(unknown).toEqual({
      status: 404,
      body: { error: { code: 10010, error_subcode: 2018001, type: 'recipient_not_found', message: 'Recipient not found', request_id: 'push-unknown' } },
    });
    // Known, but not on that page.
    expect((await push(shop.url, receiptBody('push-other-page', psid, receiptParams, '999'))).body).toMatchObject({ error: { code: 10010 } });
    await pause(500);
    expect(graph.requests.length).toBe(before);
  });

  it('answers code 100 naming the field when summary.total_cost is missing, and sends nothing', async () => {
    const before = graph.requests.length;
    const { total_cost: _total, ...summary } = receiptParams['summary'] as Record<string, unknown>;
    const invalid = await push(shop.url, receiptBody('push-invalid', psid, { ...receiptParams, summary }));
    expect(invalid).toEqual({
      status: 400,
      body: { error: { code: 100, error_subcode: 0, type: 'invalid_parameter', message: 'params.summary.total_cost: required', request_id: 'push-invalid' } },
    });
    const tooPrecise = await push(shop.url, receiptBody('push-cents', psid, { ...receiptParams, summary: { ...summary, total_cost: 24.955 } }));
    expect((tooPrecise.body['error'] as { message: string }).message).toBe('params.summary.total_cost: "24.955" has 3 decimals; USD allows 2');
    const badCurrency = await push(shop.url, receiptBody('push-currency', psid, { ...receiptParams, currency: 'usd' }));
    expect((badCurrency.body['error'] as { message: string }).message).toMatch(/^params\.currency: must be an ISO 4217 currency code/);
    const extra = await push(shop.url, receiptBody('push-extra', psid, { ...receiptParams, merchant_name: 'Shop' }));
    expect((extra.body['error'] as { message: string }).message).toBe('params.merchant_name: unknown field');
    await pause(500);
    expect(graph.requests.length).toBe(before);
  });

  it('pushes a shipping update: a Messenger button template with the tracking link, the core message on the web', async () => {
    const params = {
      package_number: '1Z999AA10123456784',
      package_status: 'Shipped',
      package_status_description: 'Your parcel left our warehouse.',
      image_url: 'https://shop.example.com/img/parcel.png',
      detailed_tracking_url: 'https://track.example.com/1Z999AA10123456784',
      fb_first_name: 'Ana',
    };
    const body = (id: string, recipient: string) => ({ request: { method: 'send_template', id, template_name: 'Shipping Status Update Push' }, recipient: { id: recipient }, params });
    expect((await push(shop.url, body('push-ship-1', psid))).status).toBe(200);
    const [sent] = await graph.waitFor((request) => to(psid)(request) && JSON.stringify(request.body).includes('track.example.com'));
    const payload = (sent!.body as { message: { attachment: { payload: { template_type: string; text: string; buttons: unknown[] } } } }).message.attachment.payload;
    expect(payload.template_type).toBe('button');
    expect(payload.text).toContain('Shipped');
    expect(payload.buttons).toEqual([{ type: 'web_url', title: 'Track package', url: params.detailed_tracking_url }]);

    const customer = await WebCustomer.open(shop.url);
    await customer.say('hi');
    expect((await push(shop.url, body('push-ship-web', customer.user))).status).toBe(200);
    expect(ofKind(await customer.next(), 'shipping_update')).toEqual([
      {
        kind: 'shipping_update',
        orderId: 0,
        status: 70,
        statusText: 'Shipped',
        text: 'Hi Ana!\nPackage 1Z999AA10123456784: Shipped.\nYour parcel left our warehouse.',
        packageNumber: params.package_number,
        trackingUrl: params.detailed_tracking_url,
        imageUrl: params.image_url,
        intent: 'update',
      },
    ]);
  });

  it('answers code 190 without a valid token, and code 100 for malformed JSON', async () => {
    expect(await push(shop.url, receiptBody('push-no-token'), null)).toMatchObject({ status: 401, body: { error: { code: 190, request_id: null } } });
    const malformed = await fetch(`${shop.url}/api/v1/send_template`, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}` }, body: '{"request":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 100, message: 'malformed JSON in the request body' } });
  });
});

describe('push amounts', () => {
  it('turns decimal amounts into minor units exactly, from their decimal text', () => {
    expect(minorUnits(24.95, 'USD')).toBe(2495);
    // 4.35 × 100 is 434.99999999999994 in floating point.
    expect(minorUnits(4.35, 'EUR')).toBe(435);
    expect(minorUnits(1.1, 'EUR')).toBe(110);
    expect(minorUnits('0.10', 'EUR')).toBe(10);
    expect(minorUnits(0, 'USD')).toBe(0);
    expect(minorUnits('1000', 'JPY')).toBe(1000);
    expect(minorUnits('1.234', 'BHD')).toBe(1234);
    expect(() => minorUnits(1.005, 'USD')).toThrow('"1.005" has 3 decimals; USD allows 2');
    expect(() => minorUnits(12.5, 'JPY')).toThrow(/JPY allows 0/);
    expect(() => minorUnits(1e21, 'USD')).toThrow(/not a decimal amount/);
    expect(() => minorUnits(Number.NaN, 'USD')).toThrow();
  });

  it('maps every receipt field, with the items summed when the subtotal is left out', () => {
    const params = receiptParamsSchema.parse({
      recipient_name: 'Ana',
      order_number: '1001',
      currency: 'EUR',
      payment_method: 'Cash',
      summary: { total_cost: '19.80' },
      elements: [{ title: 'Sencha', price: '9.90', quantity: 2 }],
    });
    const receipt = receiptPush(params, 1_767_225_700_999);
    expect(receipt).toMatchObject({
      orderId: 1001,
      orderNumber: '1001',
      timestamp: 1_767_225_700,
      delivery: 'pickup',
      items: [{ title: 'Sencha', quantity: 2, price: 990, currency: 'EUR' }],
      summary: { subtotal: 1980, shippingCost: 0, totalTax: 0, totalCost: 1980 },
      adjustments: [],
    });
    expect(receipt.text.split('\n')).toEqual(['Order 1001', '2 × Sencha — €19.80', 'Subtotal: €19.80', 'Shipping: €0.00', 'Total: €19.80', 'For: Ana', 'Payment: Cash']);
  });
});

/** A shop's own push words (German, amounts as Germans write them). */
const german: PushTexts = {
  locale: 'de',
  order: (orderNumber) => `Bestellung ${orderNumber}`,
  itemLine: (quantity, title, total) => `${quantity} × ${title}: ${total}`,
  subtotal: 'Zwischensumme',
  shipping: 'Versand',
  tax: 'MwSt.',
  total: 'Gesamt',
  recipient: 'Für',
  address: 'An',
  payment: 'Zahlung',
  greeting: (firstName) => `Hallo ${firstName}!`,
  packageStatus: (packageNumber, status) => `Paket ${packageNumber}: ${status}.`,
};

describe('push texts', () => {
  const receiptParams = receiptParamsSchema.parse({
    recipient_name: 'Ana',
    order_number: '1001',
    currency: 'EUR',
    payment_method: 'Bar',
    address: { street_1: 'Hauptstraße 1', city: 'Berlin', postal_code: '10115', state: 'BE', country: 'DE' },
    summary: { shipping_cost: '4.95', total_tax: '1.00', total_cost: '24.75' },
    elements: [{ title: 'Sencha', price: '9.40', quantity: 2 }],
  });
  const shippingParams = shippingParamsSchema.parse({ package_number: '1Z999', package_status: 'Versandt', fb_first_name: 'Ana' });

  it("are today's English when the shop passes none", () => {
    expect(receiptPush(receiptParams, 0).text.split('\n')).toEqual([
      'Order 1001',
      '2 × Sencha — €18.80',
      'Subtotal: €18.80',
      'Shipping: €4.95',
      'Tax: €1.00',
      'Total: €24.75',
      'For: Ana',
      'To: Hauptstraße 1, 10115 Berlin, BE, DE',
      'Payment: Bar',
    ]);
    expect(shippingPush(shippingParams).text).toBe('Hi Ana!\nPackage 1Z999: Versandt.');
  });

  it("word a receipt's plain lines in the shop's texts and locale", () => {
    expect(receiptPush(receiptParams, 0, german).text.split('\n')).toEqual([
      'Bestellung 1001',
      '2 × Sencha: 18,80\u00a0€',
      'Zwischensumme: 18,80\u00a0€',
      'Versand: 4,95\u00a0€',
      'MwSt.: 1,00\u00a0€',
      'Gesamt: 24,75\u00a0€',
      'Für: Ana',
      'An: Hauptstraße 1, 10115 Berlin, BE, DE',
      'Zahlung: Bar',
    ]);
  });

  it("word a shipping update in the shop's texts", () => {
    expect(shippingPush(shippingParams, german).text).toBe('Hallo Ana!\nPaket 1Z999: Versandt.');
  });

  it('reach send_template through createMerchantApi', async () => {
    const address: Address = { channel: 'web', account: 'shop', user: 'u-de' };
    const pushed: InboundEventInput[] = [];
    const store = { findCustomer: async () => ({ id: 1, address, createdAt: 0 }) } as Partial<Store>;
    const engine = {
      store,
      ingest: async (events: readonly InboundEventInput[]) => {
        pushed.push(...events);
        return { accepted: events.length, duplicates: 0 };
      },
    } as unknown as Engine;
    const app = express().use(createMerchantApi({ engine, tokens: ['de-token'], channels: ['web'], pushTexts: german }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/send_template`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer de-token' },
        body: JSON.stringify({
          request: { method: 'send_template', id: 'push-de-1', template_name: 'Shipping Status Update Push' },
          recipient: { id: address.user },
          params: { package_number: '1Z999', package_status: 'Versandt', fb_first_name: 'Ana' },
        }),
      });
      expect(response.status).toBe(200);
      expect(pushed).toMatchObject([{ type: 'push', id: 'push:push-de-1', address, message: { kind: 'shipping_update', text: 'Hallo Ana!\nPaket 1Z999: Versandt.' } }]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
