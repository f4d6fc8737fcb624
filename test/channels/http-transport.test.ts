import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, HttpTransportError, terminateHttpThread, type HttpRequest, type TransportKind } from '../../src/channels/http-transport.js';

/** A loopback server: `/slow?ms=N` answers after N ms, `/busy` with a 429 and Retry-After, the rest echoes. */
let server: Server;
let origin: string;
const seen: { method?: string; url?: string; body: string; header?: string }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, header: req.headers['x-test'] as string | undefined });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/busy') {
        res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"error":{"code":4}}');
        return;
      }
      const wait = Number(url.searchParams.get('ms') ?? 0);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body, path: req.url })), wait);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string, body = '{}', timeoutMs = 5_000): HttpRequest => ({ method: 'POST', path, headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body, timeoutMs });

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createTcpServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

for (const kind of ['thread', 'inline'] as TransportKind[]) {
  describe(`the ${kind} http transport`, () => {
    it('sends method, path, headers and body, and answers the status and the text', async () => {
      const http = createHttpTransport(origin, { connections: 4, kind });
      try {
        const answer = await http.request(post('/v1/messages?token=t', '{"text":"héllo"}'));
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.text)).toEqual({ echo: '{"text":"héllo"}', path: '/v1/messages?token=t' });
        expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/messages?token=t', header: 'yes' });
      } finally {
        await http.close();
      }
    });

    it('answers a status outside 2xx with its headers', async () => {
      const http = createHttpTransport(origin, { connections: 4, kind });
      try {
        const answer = await http.request(post('/busy'));
        expect(answer).toMatchObject({ status: 429, text: '{"error":{"code":4}}' });
        expect(answer.headers['retry-after']).toBe('7');
      } finally {
        await http.close();
      }
    });

    it('answers many requests at once, each with its own answer', async () => {
      const http = createHttpTransport(origin, { connections: 8, kind });
      try {
        const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => http.request(post(`/n?ms=${i % 7}`, String(i)))));
        expect(answers.map((answer) => (JSON.parse(answer.text) as { echo: string }).echo)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
      } finally {
        await http.close();
      }
    });

    it('rejects with the code when nothing listens, and when the answer does not come in time', async () => {
      const refused = createHttpTransport(`http://127.0.0.1:${await freePort()}`, { connections: 1, kind });
      const refusal: unknown = await refused.request(post('/x')).catch((error: unknown) => error);
      await refused.close();
      expect(refusal).toBeInstanceOf(HttpTransportError);
      expect((refusal as HttpTransportError).code).toBe('ECONNREFUSED');

      const slow = createHttpTransport(origin, { connections: 1, kind });
      // undici checks its timeouts on a coarse tick (about half a second): the answer is far slower.
      const late: unknown = await slow.request(post('/slow?ms=2500', '{}', 100)).catch((error: unknown) => error);
      await slow.close();
      expect(late).toBeInstanceOf(HttpTransportError);
      expect((late as HttpTransportError).code).toBe('UND_ERR_HEADERS_TIMEOUT');
    });

    it('gives a request up when its signal fires, and goes on with the next', async () => {
      const http = createHttpTransport(origin, { connections: 2, kind });
      try {
        const controller = new AbortController();
        const started = Date.now();
        const pending = http.request({ ...post('/slow?ms=3000'), signal: controller.signal });
        setTimeout(() => controller.abort(), 100);
        const error: unknown = await pending.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(HttpTransportError);
        expect((error as HttpTransportError).code).toBe('UND_ERR_ABORTED');
        expect(Date.now() - started).toBeLessThan(2_500);
        await expect(http.request({ ...post('/x'), signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
        // A signal that never fires does not hold up the answer.
        expect((await http.request({ ...post('/y', 'after'), signal: new AbortController().signal })).status).toBe(200);
      } finally {
        await http.close();
      }
    });

    it('keeps an idle socket as long as told when the server gives no keep-alive hint', async () => {
      // keepAliveTimeout 0: the server keeps idle sockets and sends no `Keep-Alive: timeout` hint.
      const counting = createServer((req, res) => res.end('{}'));
      counting.keepAliveTimeout = 0;
      let connections = 0;
      counting.on('connection', () => connections++);
      await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
      const address = counting.address();
      const target = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const short = createHttpTransport(target, { connections: 1, kind, keepAliveMs: 100 });
      const long = createHttpTransport(target, { connections: 1, kind, keepAliveMs: 60_000 });
      try {
        for (const http of [short, long]) {
          connections = 0;
          await http.request(post('/one'));
          await new Promise((resolve) => setTimeout(resolve, 600));
          await http.request(post('/two'));
          expect(connections).toBe(http === short ? 2 : 1);
        }
      } finally {
        await Promise.all([short.close(), long.close()]);
        counting.closeAllConnections();
        await new Promise((resolve) => counting.close(resolve));
      }
    });

    it('lets a request in flight finish on close, and refuses one after', async () => {
      const http = createHttpTransport(origin, { connections: 2, kind });
      const inFlight = http.request(post('/slow?ms=300', 'late'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closing = http.close();
      expect(JSON.parse((await inFlight).text)).toMatchObject({ echo: 'late' });
      await closing;
      await expect(http.request(post('/x'))).rejects.toBeInstanceOf(HttpTransportError);
    });
  });
}

describe('the shared thread', () => {
  it('serves every thread transport of the process; closing one leaves the others working', async () => {
    const first = createHttpTransport(origin, { connections: 2, kind: 'thread' });
    const second = createHttpTransport(origin, { connections: 2, kind: 'thread' });
    await first.request(post('/a'));
    await first.close();
    expect((await second.request(post('/b'))).status).toBe(200);
    await second.close();
    // The last one stopped the thread; a new transport starts another.
    const third = createHttpTransport(origin, { connections: 2, kind: 'thread' });
    expect((await third.request(post('/c'))).status).toBe(200);
    await third.close();
  });

  it('fails the requests a dying thread held, and the next request starts another', async () => {
    const http = createHttpTransport(origin, { connections: 2, kind: 'thread' });
    const other = createHttpTransport(origin, { connections: 2, kind: 'thread' });
    try {
      expect((await http.request(post('/before'))).status).toBe(200);
      const held = http.request(post('/slow?ms=2000', 'held'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await terminateHttpThread();
      await expect(held).rejects.toMatchObject({ name: 'HttpTransportError', code: 'ETHREADEXIT' });
      expect(JSON.parse((await http.request(post('/after', 'again'))).text)).toMatchObject({ echo: 'again' });
      // Every transport moves to the new thread, and closing them all stops it.
      expect((await other.request(post('/other'))).status).toBe(200);
    } finally {
      await Promise.all([http.close(), other.close()]);
    }
  });
});
