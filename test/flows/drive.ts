import { parseCatalog, type Catalog } from '../../src/commerce/catalog.js';
import { effectSchema, type Effect, type EffectOf } from '../../src/core/effects.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { FlowDefinition } from '../../src/core/flow.js';
import type { ActorKey, Address } from '../../src/core/ids.js';
import type { OutboundMessage } from '../../src/core/outbound.js';
import { compileFlow, step, type CompiledFlow } from '../../src/core/runtime.js';
import type { SnapshotEnvelope } from '../../src/core/store.js';
import type { TestChat } from '../../src/testing/index.js';
import { createShopServices, type ShopServices } from '../../flows/services.js';

/** An event without its envelope: the driver fills `id`, `key`, `at` and `address`. */
export type Input = InboundEvent extends infer E ? (E extends unknown ? Omit<E, 'id' | 'key' | 'at' | 'address'> & { address?: Address } : never) : never;

export interface Driver {
  /** Sends events in order, carrying the snapshot forward; answers the effects of them all. */
  send(...events: Input[]): Effect[];
  /** A typed text. */
  say(text: string): Effect[];
  /** A tapped button. */
  tap(payload: string): Effect[];
  /** The machine's state value after the last event. */
  readonly value: unknown;
  readonly context: Record<string, unknown>;
  /** Every effect so far. */
  readonly effects: readonly Effect[];
  /** Milliseconds of the next event. */
  at: number;
}

export const customer: Address = { channel: 'test', account: 'shop', user: 'u1' };

/**
 * Drives one actor of a flow through `step`, as the engine does: each event goes to the
 * stored snapshot of the one before, and the effects are collected.
 * @example const chat = drive(shopFlow, services); chat.say('hi');
 */
export function drive<S>(definition: FlowDefinition<S>, services: S, options: { key?: string; address?: Address } = {}): Driver {
  const flow: CompiledFlow = compileFlow(definition, services);
  const address = options.address ?? customer;
  const key = (options.key ?? `conv:${address.channel}:${address.account}:${address.user}`) as ActorKey;
  let stored: SnapshotEnvelope | null = null;
  let value: unknown;
  let sequence = 0;
  const all: Effect[] = [];
  const driver: Driver = {
    at: 1_700_000_000_000,
    send(...events) {
      const effects: Effect[] = [];
      for (const input of events) {
        const event = { address, ...input, id: `e${++sequence}`, key, at: driver.at } as InboundEvent;
        driver.at += 1_000;
        const result = step(flow, stored, event);
        stored = { ...result.envelope, rev: (stored?.rev ?? 0) + 1 };
        value = result.value;
        // Every effect must be one the engine accepts, exactly as emitted.
        for (const effect of result.effects) effectSchema.parse(effect);
        effects.push(...result.effects);
      }
      all.push(...effects);
      return effects;
    },
    say: (text) => driver.send({ type: 'text', text }),
    tap: (payload) => driver.send({ type: 'payload', payload }),
    get value() {
      return value;
    },
    get context() {
      return ((stored?.snapshot as { context?: Record<string, unknown> } | undefined)?.context ?? {});
    },
    get effects() {
      return all;
    },
  };
  return driver;
}

/** The messages of the reply effects. */
export function replies(effects: readonly Effect[]): OutboundMessage[] {
  return effects.filter((effect): effect is EffectOf<'reply'> => effect.type === 'reply').map((effect) => effect.message);
}

/** Every text the customer read in these effects, joined (texts, product messages, receipts). */
export function said(effects: readonly Effect[]): string {
  return replies(effects)
    .map((message) => ('text' in message && message.text) || '')
    .join('\n');
}

/** The payloads offered in these effects' replies (buttons, quick replies, product buttons). */
export function offered(effects: readonly Effect[]): string[] {
  const out: string[] = [];
  for (const message of replies(effects)) {
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

/** The effects of one type. */
export function ofType<T extends Effect['type']>(effects: readonly Effect[], type: T): EffectOf<T>[] {
  return effects.filter((effect): effect is EffectOf<T> => effect.type === type);
}

/** A small catalog for flow tests: two categories, one product sold out, one with little stock. */
export const fixtureCatalogJson = JSON.stringify([
  { id: 'eth', article: 'CB-ETH', title: 'Ethiopia Yirgacheffe', description: 'Jasmine and lemon. Light roast.', price: '12.50', currency: 'EUR', image_url: 'https://example.com/eth.jpg', category: 'Coffee', stock: 10 },
  { id: 'col', article: 'CB-COL', title: 'Colombia Huila', description: 'Caramel and red apple.', price: '11.00', currency: 'EUR', image_url: 'https://example.com/col.jpg', category: 'Coffee' },
  { id: 'ken', article: 'CB-KEN', title: 'Kenya AA', description: 'Blackcurrant and grapefruit.', price: '14.90', currency: 'EUR', image_url: 'https://example.com/ken.jpg', category: 'Coffee', stock: 0 },
  { id: 'sencha', article: 'TEA-SEN', title: 'Japanese Sencha', description: 'Steamed green tea.', price: '9.80', currency: 'EUR', image_url: 'https://example.com/sencha.jpg', category: 'Tea', stock: 2 },
  { id: 'kettle', article: 'GEAR-KETTLE', title: 'Gooseneck Kettle', description: 'A slim spout for a steady pour.', price: '39.00', currency: 'EUR', image_url: 'https://example.com/kettle.jpg', category: 'Gear' },
  { id: 'sticker', article: 'STICKER', title: 'Sticker', description: 'A small sticker.', price: '0.10', currency: 'EUR', image_url: 'https://example.com/sticker.jpg' },
]);

export function fixtureCatalog(): Catalog {
  return parseCatalog(fixtureCatalogJson, 'json');
}

export function fixtureServices(): ShopServices {
  return createShopServices(fixtureCatalog());
}

/** Buys one product with pickup through the test kit, as a customer would; answers the new order's id. */
export async function buyOne(chat: TestChat): Promise<number> {
  await chat.event({ type: 'cart_order', items: [{ ref: 'CB-ETH', quantity: 1 }] });
  await chat.tap('Pickup');
  await chat.send('Ada Lovelace');
  await chat.send('+44 20 7946 0958');
  await chat.tap('As soon as possible');
  await chat.tap('Confirm');
  const [order] = await chat.orders();
  return order!.id;
}
