import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';

describe('PostgreSQL settings', () => {
  it('leaves the pool settings to the store unless set, and reads them when set', () => {
    const url = 'postgres://shop:pw@db/shop';
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    expect(loadConfig({ DATABASE_URL: url }).leaseTimeoutMs).toBe(15_000);
    const config = loadConfig({
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: '20',
      DATABASE_STATEMENT_TIMEOUT_MS: '2500',
      DATABASE_SCHEMA: 'shop_eu',
      LEASE_TIMEOUT_MS: '30000',
    });
    expect(config.database).toEqual({ kind: 'postgres', url, poolSize: 20, statementTimeoutMs: 2_500, schema: 'shop_eu' });
    expect(config.leaseTimeoutMs).toBe(30_000);
  });

  it.each([
    ['DATABASE_POOL_SIZE', '0', /^DATABASE_POOL_SIZE must be an integer from 1 to 1000/],
    ['DATABASE_STATEMENT_TIMEOUT_MS', 'soon', /^DATABASE_STATEMENT_TIMEOUT_MS must be an integer/],
    ['DATABASE_SCHEMA', 'shop-eu', /^DATABASE_SCHEMA must be a schema name/],
    ['LEASE_TIMEOUT_MS', '10', /^LEASE_TIMEOUT_MS must be an integer from 500/],
  ])('refuses %s=%s in one line naming it', (variable, value, message) => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/shop', [variable]: value })).toThrow(message);
  });
});
