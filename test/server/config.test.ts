import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/server/config.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/shop');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('answers the contract defaults for an empty environment', () => {
    const config = loadConfig({}, '/srv/shop');
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database).toEqual({ kind: 'sqlite', path: '/srv/shop/data/orderly.db' });
    expect(config.catalogFile).toBe(join(repo, 'data', 'demo-catalog.json'));
    expect(config.merchantTokens).toEqual([]);
    expect(config.meta.graphApiUrl).toBe('https://graph.facebook.com/v21.0');
    expect(config.telegram).toEqual({ mode: 'polling', apiRoot: 'https://api.telegram.org', maxPerSecond: 30 });
    expect(config.crm).toEqual({ method: 'POST', maxAttempts: 10, timeoutMs: 10_000 });
    expect(config.api).toEqual({ rateLimit: 600 });
    expect(config.retry).toEqual({ baseMs: 500, maxMs: 300_000 });
    expect(config.logLevel).toBe('info');
    expect(config.webAccount).toBe('web');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ', TELEGRAM_MODE: '' }).port).toBe(3000);
  });

  it('reads the store from DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'memory:' }).database).toEqual({ kind: 'memory' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/orderly.db' }).database).toEqual({ kind: 'sqlite', path: '/var/lib/orderly.db' });
    expect(loadConfig({ DATABASE_URL: 'postgres://shop:pw@db/shop' }).database).toEqual({ kind: 'postgres', url: 'postgres://shop:pw@db/shop' });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/shop' }).database.kind).toBe('postgres');
  });

  it('splits MERCHANT_TOKEN on commas', () => {
    expect(loadConfig({ MERCHANT_TOKEN: 'alpha, beta,,gamma' }).merchantTokens).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('carries every channel and CRM variable', () => {
    const config = loadConfig({
      PORT: '0',
      META_APP_SECRET: 'app-secret',
      META_VERIFY_TOKEN: 'verify-me',
      GRAPH_API_URL: 'http://127.0.0.1:9000/v21.0/',
      MESSENGER_PAGE_TOKEN: 'page-token',
      WHATSAPP_TOKEN: 'wa-token',
      WHATSAPP_PHONE_NUMBER_ID: '1234567890',
      WHATSAPP_CATALOG_ID: '987',
      MESSENGER_RECEIPT_TEMPLATE: 'order_receipt',
      WHATSAPP_SHIPPING_TEMPLATE: 'shipping_update_v2',
      TEMPLATE_LANGUAGE: 'de_DE',
      TELEGRAM_BOT_TOKEN: '123456:ABC-def_ghi',
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: 'tg_secret-1',
      TELEGRAM_WEBHOOK_URL: 'https://shop.example.com/webhooks/telegram',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9001',
      TELEGRAM_PAYMENT_TOKEN: 'pay:token',
      TELEGRAM_MAX_PER_SECOND: '500',
      CRM_URL: 'https://crm.example.com/orders',
      CRM_METHOD: 'get',
      CRM_SECRET: 'crm-secret',
      LOG_LEVEL: 'debug',
      WEB_ACCOUNT: 'demo-shop',
    });
    expect(config.port).toBe(0);
    expect(config.meta).toEqual({ appSecret: 'app-secret', verifyToken: 'verify-me', graphApiUrl: 'http://127.0.0.1:9000/v21.0' });
    expect(config.messenger).toEqual({ pageToken: 'page-token', templates: { receipt: 'order_receipt', language: 'de_DE' } });
    expect(config.whatsapp).toEqual({
      token: 'wa-token',
      phoneNumberId: '1234567890',
      catalogId: '987',
      templates: { shippingUpdate: 'shipping_update_v2', language: 'de_DE' },
    });
    expect(config.telegram).toEqual({
      botToken: '123456:ABC-def_ghi',
      mode: 'webhook',
      webhookSecret: 'tg_secret-1',
      webhookUrl: 'https://shop.example.com/webhooks/telegram',
      apiRoot: 'http://127.0.0.1:9001',
      paymentToken: 'pay:token',
      maxPerSecond: 500,
    });
    expect(config.crm).toEqual({ url: 'https://crm.example.com/orders', method: 'GET', secret: 'crm-secret', maxAttempts: 10, timeoutMs: 10_000 });
    expect(config.logLevel).toBe('debug');
    expect(config.webAccount).toBe('demo-shop');
    expect(JSON.stringify(describeConfig(config))).not.toMatch(/secret|token/i);
  });

  it('reads the CRM retry, API rate limit and retry backoff variables', () => {
    const config = loadConfig({ CRM_MAX_ATTEMPTS: '3', CRM_TIMEOUT_MS: '2500', API_RATE_LIMIT: '60', RETRY_BASE_MS: '50', RETRY_MAX_MS: '50' });
    expect(config.crm).toMatchObject({ maxAttempts: 3, timeoutMs: 2_500 });
    expect(config.api.rateLimit).toBe(60);
    expect(config.retry).toEqual({ baseMs: 50, maxMs: 50 });
  });

  it('keeps all history by default, and RETENTION_DAYS days of it when set', () => {
    expect(loadConfig({}).retentionDays).toBe(0);
    expect(loadConfig({ RETENTION_DAYS: '30' }).retentionDays).toBe(30);
  });

  it('resolves CATALOG_FILE against the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orderly-config-'));
    writeFileSync(join(dir, 'shop.csv'), 'id\n');
    expect(loadConfig({ CATALOG_FILE: 'shop.csv' }, dir).catalogFile).toBe(join(dir, 'shop.csv'));
  });

  it.each([
    ['PORT', 'http', /^PORT must be an integer from 0 to 65535 \(got "http"\)$/],
    ['PORT', '70000', /^PORT must be an integer/],
    ['HOST', 'my host', /^HOST /],
    ['CATALOG_FILE', 'products.xml', /^CATALOG_FILE must name a \.json or \.csv file/],
    ['CATALOG_FILE', 'missing.json', /^CATALOG_FILE names a file that does not exist/],
    ['GRAPH_API_URL', 'graph.facebook.com', /^GRAPH_API_URL must be an http\(s\) URL/],
    ['WHATSAPP_PHONE_NUMBER_ID', '+49 170', /^WHATSAPP_PHONE_NUMBER_ID must be the numeric/],
    ['WHATSAPP_CATALOG_ID', 'abc', /^WHATSAPP_CATALOG_ID /],
    ['TELEGRAM_MODE', 'push', /^TELEGRAM_MODE must be webhook or polling \(got "push"\)$/],
    ['TELEGRAM_API_ROOT', 'ftp://x', /^TELEGRAM_API_ROOT must be an http\(s\) URL/],
    ['CRM_URL', 'crm', /^CRM_URL must be an http\(s\) URL/],
    ['CRM_METHOD', 'PUT', /^CRM_METHOD must be POST or GET/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL must be one of/],
    ['WEB_ACCOUNT', 'a shop', /^WEB_ACCOUNT /],
    ['CRM_MAX_ATTEMPTS', '0', /^CRM_MAX_ATTEMPTS must be an integer from 1 to 1000 \(got "0"\)$/],
    ['CRM_MAX_ATTEMPTS', 'ten', /^CRM_MAX_ATTEMPTS must be an integer/],
    ['CRM_TIMEOUT_MS', '5s', /^CRM_TIMEOUT_MS must be an integer from 100 to 600000 \(milliseconds\)/],
    ['API_RATE_LIMIT', '-1', /^API_RATE_LIMIT must be an integer from 1 to 1000000 \(requests per minute per token\)/],
    ['RETRY_BASE_MS', '0.5', /^RETRY_BASE_MS must be an integer/],
    ['RETRY_MAX_MS', '100', /^RETRY_MAX_MS must be at least RETRY_BASE_MS \(500\)/],
    ['RETENTION_DAYS', '3', /^RETENTION_DAYS must be 0 \(keep everything\) or at least 7: platforms redeliver/],
    ['RETENTION_DAYS', '-1', /^RETENTION_DAYS must be an integer from 0 to 36500 \(days; 0 keeps everything\)/],
  ])('names %s when it is %j', (variable, value, message) => {
    const error = failure({ [variable]: value, ...(variable === 'WHATSAPP_PHONE_NUMBER_ID' ? { WHATSAPP_TOKEN: 'x' } : {}) });
    expect(error.variable).toBe(variable);
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['DATABASE_URL', 'mysql://root:hunter2@db/shop'],
    ['DATABASE_URL', 'postgres://shop:hunter2@[bad'],
    ['MERCHANT_TOKEN', 'hunter2 hunter2'],
    ['MERCHANT_TOKEN', ' , ,'],
    ['META_APP_SECRET', 'hunter2 x'],
    ['META_VERIFY_TOKEN', 'hunter2 x'],
    ['MESSENGER_PAGE_TOKEN', 'hunter2 x'],
    ['WHATSAPP_TOKEN', 'hunter2 x'],
    ['TELEGRAM_BOT_TOKEN', 'hunter2'],
    ['TELEGRAM_WEBHOOK_SECRET', 'hunter2!'],
    ['TELEGRAM_PAYMENT_TOKEN', 'hunter2 x'],
    ['CRM_SECRET', 'hunter2 x'],
  ])('names %s without printing its value', (variable, value) => {
    const error = failure({ [variable]: value, WHATSAPP_PHONE_NUMBER_ID: variable === 'WHATSAPP_TOKEN' ? '1' : '' });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable} `)).toBe(true);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('\n');
  });

  it('refuses a template name the platforms would not accept', () => {
    expect(() => loadConfig({ MESSENGER_RECEIPT_TEMPLATE: 'Order Receipt' })).toThrow(/^MESSENGER_RECEIPT_TEMPLATE must be a template name/);
  });

  it('reads DATABASE_SYNCHRONOUS for a SQLite file only', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/shop.db', DATABASE_SYNCHRONOUS: 'full' }).database).toEqual({ kind: 'sqlite', path: '/tmp/shop.db', synchronous: 'full' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/shop.db' }).database).toEqual({ kind: 'sqlite', path: '/tmp/shop.db' });
    expect(failure({ DATABASE_SYNCHRONOUS: 'always' }).message).toMatch(/^DATABASE_SYNCHRONOUS must be normal or full/);
    expect(failure({ DATABASE_URL: 'memory:', DATABASE_SYNCHRONOUS: 'full' }).message).toMatch(/^DATABASE_SYNCHRONOUS applies to a SQLite file/);
  });

  it('registers a Telegram webhook only in webhook mode, and only with a secret', () => {
    const url = 'https://shop.example.com/webhooks/telegram';
    expect(failure({ TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: 's' }).message).toMatch(/^TELEGRAM_WEBHOOK_URL needs TELEGRAM_MODE=webhook/);
    expect(failure({ TELEGRAM_WEBHOOK_URL: url, TELEGRAM_MODE: 'webhook' }).variable).toBe('TELEGRAM_WEBHOOK_SECRET');
    expect(failure({ TELEGRAM_WEBHOOK_URL: 'shop.example.com/webhooks/telegram', TELEGRAM_MODE: 'webhook', TELEGRAM_WEBHOOK_SECRET: 's' }).variable).toBe(
      'TELEGRAM_WEBHOOK_URL',
    );
    expect(loadConfig({ TELEGRAM_MODE: 'webhook', TELEGRAM_WEBHOOK_SECRET: 's' }).telegram.webhookUrl).toBeUndefined();
  });

  it('asks for both WhatsApp credentials', () => {
    expect(failure({ WHATSAPP_TOKEN: 'secret-token' }).message).toBe('WHATSAPP_PHONE_NUMBER_ID is required when WHATSAPP_TOKEN is set');
    expect(failure({ WHATSAPP_PHONE_NUMBER_ID: '123' }).variable).toBe('WHATSAPP_TOKEN');
  });
});
