import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/start-server.js';
import { databaseUrl, dropSchema, freshSchema } from './harness.js';

/**
 * /healthz of a server on PostgreSQL when the database stops answering: a TCP relay between
 * the two stands in for the database, and is frozen (it keeps the connections and forwards
 * nothing, as a database host that vanished does).
 */

const schema = freshSchema();
afterAll(async () => {
  if (databaseUrl) await dropSchema(schema);
});

function relay(target: URL): Promise<{ server: Server; port: number; freeze(): void; sockets: Set<Socket> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => void (frozen || upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => void (frozen || client.write(chunk)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, freeze: () => void (frozen = true), sockets })),
  );
}

describe.skipIf(!databaseUrl)('a server on PostgreSQL', () => {
  it('answers /healthz 503 within two seconds when the database stops answering', { timeout: 30_000 }, async () => {
    const target = new URL(databaseUrl!);
    const proxy = await relay(target);
    const url = new URL(databaseUrl!);
    url.host = `127.0.0.1:${proxy.port}`;
    const server = await startServer(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: url.toString(), DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent', DATABASE_STATEMENT_TIMEOUT_MS: '5000' }),
    );
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      proxy.freeze();
      const started = Date.now();
      const response = await fetch(`${server.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unhealthy', store: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const socket of proxy.sockets) socket.destroy();
      await server.close({ timeoutMs: 1_000 });
      proxy.server.close();
    }
  });
});
