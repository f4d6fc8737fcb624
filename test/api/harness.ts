import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/start-server.js';

/**
 * The real server on loopback with a SQLite file in a temp dir, a merchant API client, and
 * a web customer who shops by tapping the choices the shop offers: what the API tests drive.
 */

export const tokens = ['merchant-token-one', 'merchant-token-two'] as const;

export interface Shop {
  readonly server: RunningServer;
  readonly url: string;
  readonly dir: string;
  readonly dbFile: string;
  readonly env: Record<string, string>;
  /** Stops the server (and, with `keepFiles`, leaves the SQLite file for a restart). */
  close(keepFiles?: boolean): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1:0 over a fresh SQLite file, with the merchant tokens,
 * quick retries, and the given variables on top.
 */
export async function startShop(env: Record<string, string> = {}, options: StartOptions = {}, dir?: string): Promise<Shop> {
  const home = dir ?? mkdtempSync(join(tmpdir(), 'orderly-api-'));
  const dbFile = join(home, 'orderly.db');
  const full = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${dbFile}`,
    LOG_LEVEL: 'silent',
    MERCHANT_TOKEN: tokens.join(','),
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '100',
    ...env,
  };
  const server = await startServer(loadConfig(full), options);
  return {
    server,
    url: server.url,
    dir: home,
    dbFile,
    env: full,
    async close(keepFiles = false) {
      await server.close({ timeoutMs: 2_000 });
      if (!keepFiles) rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** A method's answer body: the envelope. */
export type Envelope<T = Record<string, unknown>> = { status: 'success'; data: T } | { status: 'fail' | 'error'; message: string };

/** POSTs a merchant API call with the first token as a bearer (or `token: null` for none). */
export async function call<T = Record<string, unknown>>(
  url: string,
  method: string,
  body: unknown,
  options: { token?: string | null; raw?: string; inPath?: boolean } = {},
): Promise<Answer<Envelope<T>>> {
  const token = options.token === undefined ? tokens[0] : options.token;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null && !options.inPath) headers['authorization'] = `Bearer ${token}`;
  const path = options.inPath && token !== null ? `/api/v1/${method}/${token}` : `/api/v1/${method}`;
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Envelope<T>, headers: response.headers };
}

/** The `data` of a successful call; fails the test with the message otherwise. */
export async function data<T = Record<string, unknown>>(url: string, method: string, body: unknown): Promise<T> {
  const answer = await call<T>(url, method, body);
  if (answer.body.status !== 'success') throw new Error(`${method} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  expect(answer.status).toBe(200);
  return answer.body.data;
}

export interface Logged {
  readonly id: number;
  readonly at: number;
  readonly message: OutboundMessage;
}

let clientSeq = 0;

/** A customer of the web channel: says things, taps offered choices, reads what the shop sent. */
export class WebCustomer {
  readonly log: Logged[] = [];
  #cursor = 0;

  constructor(
    readonly url: string,
    readonly user: string,
  ) {}

  static async open(url: string): Promise<WebCustomer> {
    const response = await fetch(`${url}/web/v1/sessions`, { method: 'POST' });
    return new WebCustomer(url, ((await response.json()) as { user: string }).user);
  }

  /** Sends a text, answers what the shop replied. */
  say(text: string): Promise<Logged[]> {
    return this.#send({ text });
  }

  /** Taps the first offered choice whose payload starts with `prefix` among `replies`. */
  tap(replies: readonly Logged[], prefix: string): Promise<Logged[]> {
    const payload = offered(replies).find((choice) => choice.startsWith(prefix));
    if (!payload) throw new Error(`no choice "${prefix}…" among ${JSON.stringify(offered(replies))}`);
    return this.#send({ payload });
  }

  /** Messages that arrive from now on, once they stop coming (at least `atLeast`, within `timeoutMs`). */
  async next(atLeast = 1, timeoutMs = 10_000): Promise<Logged[]> {
    const start = this.log.length;
    const deadline = Date.now() + timeoutMs;
    while (this.log.length - start < atLeast && Date.now() < deadline) await this.#poll(Math.min(5, Math.max(0.1, (deadline - Date.now()) / 1_000)));
    // Whatever the same step sends arrives right behind.
    while (await this.#poll(0.3)) {
      /* keep reading */
    }
    return this.log.slice(start);
  }

  /** Reads new messages, waiting up to `seconds` for a first one; answers whether any came. */
  async #poll(seconds: number): Promise<boolean> {
    const response = await fetch(`${this.url}/web/v1/messages?user=${this.user}&after=${this.#cursor}&wait=${seconds.toFixed(1)}`);
    const page = (await response.json()) as { messages: Logged[]; cursor: number };
    this.log.push(...page.messages);
    this.#cursor = page.cursor;
    return page.messages.length > 0;
  }

  async #send(body: { text: string } | { payload: string }): Promise<Logged[]> {
    const response = await fetch(`${this.url}/web/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: this.user, id: `c${++clientSeq}`, ...body }),
    });
    expect(response.status).toBe(202);
    return this.next();
  }
}

/** The payloads offered in messages: buttons, quick replies, product buttons. */
export function offered(messages: readonly Logged[]): string[] {
  const out: string[] = [];
  for (const { message } of messages) {
    if (message.kind === 'text') {
      for (const button of message.buttons ?? []) if ('payload' in button) out.push(button.payload);
      for (const choice of message.quickReplies ?? []) out.push(choice.payload);
    }
    if (message.kind === 'products') {
      for (const product of message.products) for (const button of product.buttons) if ('payload' in button) out.push(button.payload);
      for (const choice of message.quickReplies ?? []) out.push(choice.payload);
    }
  }
  return out;
}

/**
 * Buys through the web chat: browse, the first category, the first product, a quantity,
 * checkout with shipping to an address, a name, a phone number, the earliest time, confirm.
 * Answers the order's id, read from the receipt the shop sends.
 */
export async function buyThroughWeb(customer: WebCustomer): Promise<number> {
  let replies = await customer.say('hi');
  replies = await customer.tap(replies, 'browse');
  replies = await customer.tap(replies, 'cat:');
  replies = await customer.tap(replies, 'add:');
  replies = await customer.tap(replies, 'qty:');
  replies = await customer.tap(replies, 'checkout');
  replies = await customer.tap(replies, 'delivery:shipping');
  replies = await customer.say('Calle Mayor 1, 28013 Madrid');
  replies = await customer.say('Ana Lopez');
  replies = await customer.say('+34 600 111 222');
  replies = await customer.tap(replies, 'time:');
  replies = await customer.tap(replies, 'confirm');
  const receipt = [...replies, ...(replies.some((entry) => entry.message.kind === 'receipt') ? [] : await customer.next())].find(
    (entry) => entry.message.kind === 'receipt',
  );
  if (receipt?.message.kind !== 'receipt') throw new Error(`no receipt after confirming: ${JSON.stringify(replies.map((entry) => entry.message.kind))}`);
  return receipt.message.orderId;
}

/** The messages of a kind in a customer's log. */
export function ofKind<K extends OutboundMessage['kind']>(log: readonly Logged[], kind: K): Extract<OutboundMessage, { kind: K }>[] {
  return log.map((entry) => entry.message).filter((message): message is Extract<OutboundMessage, { kind: K }> => message.kind === kind);
}
