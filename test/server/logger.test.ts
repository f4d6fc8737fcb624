import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggablePath, maskPhone } from '../../src/server/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('createLogger', () => {
  it('redacts tokens, secrets and authorization headers at any of the first levels', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: 'tok-1',
        config: { appSecret: 'sec-2', crm: { secret: 'sec-3' } },
        headers: { authorization: 'Bearer tok-4', 'x-hub-signature-256': 'sha256=abc' },
        req: { headers: { authorization: 'Bearer tok-5' } },
      },
      'hello',
    );
    const line = lines.join('');
    for (const secret of ['tok-1', 'sec-2', 'sec-3', 'tok-4', 'sha256=abc', 'tok-5']) expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({ token: '[redacted]', msg: 'hello' });
  });

  it('masks phone numbers to their last two digits', () => {
    const { logger, lines } = capture();
    logger.info({ order: { mobile: '+44 20 7946 0958' }, contact: { wa_id: '4915112345678' } });
    const entry = JSON.parse(lines.join('')) as { order: { mobile: string }; contact: { wa_id: string } };
    expect(entry.order.mobile).toBe('…58');
    expect(entry.contact.wa_id).toBe('…78');
    expect(maskPhone('12')).toBe('[redacted]');
  });
});

describe('loggablePath', () => {
  it('drops the merchant token from a token-in-the-path API call', () => {
    expect(loggablePath('/api/v1/getOrder/s3cr3t-token')).toBe('/api/v1/getOrder/[redacted]');
    expect(loggablePath('/api/v1/getOrder')).toBe('/api/v1/getOrder');
    expect(loggablePath('/web/v1/messages')).toBe('/web/v1/messages');
  });
});
