import { getShortestPaths, getStateNodes } from '@xstate/graph';
import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { OrderData } from '../../src/commerce/order.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { FlowInput } from '../../src/core/flow.js';
import type { ActorKey } from '../../src/core/ids.js';
import type { ProductsMessage, TextMessage } from '../../src/core/outbound.js';
import { compileFlow, step } from '../../src/core/runtime.js';
import { createShopMachine, shopFlow } from '../../flows/shop.js';
import type { ShopContext } from '../../flows/shop/context.js';
import { customer, drive, fixtureServices, ofType, offered, replies, said, type Input } from './drive.js';

const services = fixtureServices();
const start = () => drive(shopFlow, services);
const cartOf = (chat: ReturnType<typeof start>) => (chat.context as unknown as ShopContext).cart;

/** Walks a fresh chat to a state: a product in the cart, then the checkout steps in order. */
const steps: Record<string, Input[]> = {
  delivery: [{ type: 'payload', payload: 'qty:eth:2' }, { type: 'payload', payload: 'checkout' }],
  address: [{ type: 'payload', payload: 'delivery:shipping' }],
  recipient: [{ type: 'text', text: '1 Main Street, 12345 Town' }],
  mobile: [{ type: 'text', text: 'Ada Lovelace' }],
  time: [{ type: 'text', text: '+44 20 7946 0958' }],
  summary: [{ type: 'text', text: 'tomorrow after 6pm' }],
  changing: [{ type: 'payload', payload: 'change' }],
};
function walkTo(step: keyof typeof steps) {
  const chat = start();
  for (const name of Object.keys(steps)) {
    chat.send(...steps[name]!);
    if (name === step) break;
  }
  expect(chat.value).toEqual({ checkout: step });
  return chat;
}

describe('the shop conversation', () => {
  it('greets a new customer with the menu: Browse, Search, Cart, My orders, Help', () => {
    const chat = start();
    const effects = chat.say('hi');
    expect(said(effects)).toContain('Welcome');
    expect(offered(effects)).toEqual(['browse', 'search', 'cart', 'orders', 'help']);
    expect(said(chat.say('/start'))).not.toContain('Welcome');
  });

  it('browses a category into product cards with add-to-cart payloads that fit 64 bytes', () => {
    const chat = start();
    expect(offered(chat.tap('browse'))).toEqual(['cat:Coffee', 'cat:Tea', 'cat:Gear', 'cat:', 'search', 'menu']);
    const [message] = replies(chat.tap('cat:Coffee')) as ProductsMessage[];
    expect(message?.kind).toBe('products');
    expect(message?.products.map((card) => card.id)).toEqual(['eth', 'col', 'ken']);
    expect(message?.products[0]).toMatchObject({ title: 'Ethiopia Yirgacheffe', price: 1250, currency: 'EUR', priceText: '€12.50', available: true });
    expect(message?.products[0]?.buttons).toContainEqual({ title: 'Add to cart', payload: 'add:eth' });
    for (const payload of offered([{ type: 'reply', to: customer, message: message! }])) {
      expect(new TextEncoder().encode(payload).length).toBeLessThanOrEqual(64);
    }
    expect(said(chat.tap('cat:'))).toContain('Other');
  });

  it('answers a product question with that product\'s card', () => {
    const chat = start();
    const [message] = replies(chat.send({ type: 'product_question', productRef: 'CB-ETH', text: 'Is this fresh?' })) as ProductsMessage[];
    expect(message?.products).toHaveLength(1);
    expect(message?.products[0]).toMatchObject({ id: 'eth', title: 'Ethiopia Yirgacheffe', description: 'Jasmine and lemon. Light roast.', priceText: '€12.50', available: true });
    expect(message?.products[0]?.buttons).toEqual([{ title: 'Add to cart', payload: 'add:eth' }]);
    expect(message?.text).toContain('In stock');
    expect(said(chat.send({ type: 'product_question', productRef: 'nope' }))).toContain('can\'t find the product "nope"');
  });

  it('shows a card for a "product <id>" text and a Details tap', () => {
    const chat = start();
    expect((replies(chat.say('product col'))[0] as ProductsMessage).products[0]?.id).toBe('col');
    expect((replies(chat.tap('product:sencha'))[0] as ProductsMessage).products[0]?.id).toBe('sencha');
  });

  it('offers no add button for a product out of stock, and says so when one is tapped', () => {
    const chat = start();
    const [card] = (replies(chat.tap('product:ken'))[0] as ProductsMessage).products;
    expect(card).toMatchObject({ available: false, buttons: [] });
    expect(said(chat.tap('add:ken'))).toContain('Kenya AA is out of stock');
    expect(chat.value).toBe('idle');
    expect(cartOf(chat)).toEqual([]);
  });

  it('asks how many with 1/2/3, and takes a typed number', () => {
    const chat = start();
    const asked = chat.tap('add:col');
    expect(chat.value).toBe('askingQuantity');
    expect(offered(asked)).toEqual(['qty:col:1', 'qty:col:2', 'qty:col:3', 'cancel']);
    expect(said(chat.say('lots'))).toContain('Please send a number from 1 to 99');
    expect(chat.value).toBe('askingQuantity');
    expect(said(chat.say('4'))).toContain('Added 4 × Colombia Huila. Your cart: 4 items, €44.00.');
    expect(chat.value).toBe('idle');
    chat.tap('qty:col:3');
    expect(cartOf(chat)).toEqual([{ productId: 'col', quantity: 7 }]);
  });

  it('lets the customer cancel a quantity question back to the menu', () => {
    const chat = start();
    chat.tap('add:col');
    expect(offered(chat.tap('cancel'))).toEqual(['browse', 'search', 'cart', 'orders', 'help']);
    expect(chat.value).toBe('idle');
    expect(cartOf(chat)).toEqual([]);
  });

  it('never puts more in the cart than the stock', () => {
    const chat = start();
    expect(offered(chat.tap('add:sencha'))).toEqual(['qty:sencha:1', 'qty:sencha:2', 'cancel']);
    expect(said(chat.tap('qty:sencha:5'))).toContain('We have only 2 × Japanese Sencha');
    expect(cartOf(chat)).toEqual([{ productId: 'sencha', quantity: 2 }]);
  });

  it('searches by words, and finds products from free words on the menu', () => {
    const chat = start();
    const found = replies(chat.say('search green tea'))[0] as ProductsMessage;
    expect(found.products.map((card) => card.id)).toEqual(['sencha']);
    chat.tap('search');
    expect(chat.value).toBe('searching');
    expect((replies(chat.say('kettle'))[0] as ProductsMessage).products[0]?.id).toBe('kettle');
    expect(chat.value).toBe('idle');
    expect((replies(chat.say('Ethiopia'))[0] as ProductsMessage).products[0]?.id).toBe('eth');
    expect(said(chat.say('search unicorn'))).toContain('Nothing matches "unicorn"');
  });

  it('buys two products with shipping, from "hi" to create_order with exact integer sums', () => {
    const chat = start();
    chat.say('hi');
    chat.tap('cat:Coffee');
    chat.tap('add:eth');
    chat.tap('qty:eth:2');
    chat.say('search kettle');
    chat.tap('add:kettle');
    chat.say('1');
    const cart = said(chat.tap('cart'));
    expect(cart).toContain('2 × Ethiopia Yirgacheffe: €25.00');
    expect(cart).toContain('1 × Gooseneck Kettle: €39.00');
    expect(cart).toContain('Subtotal: €64.00');
    expect(offered(chat.tap('checkout'))).toEqual(['delivery:pickup', 'delivery:shipping', 'cancel']);
    chat.tap('delivery:shipping');
    chat.say('1 Main Street, 12345 Town');
    chat.say('Ada Lovelace');
    chat.say('+44 20 7946 0958');
    const summary = chat.say('tomorrow after 6pm');
    expect(said(summary)).toContain('Shipping: €0.00');
    expect(said(summary)).toContain('Total: €64.00');
    expect(offered(summary)).toEqual(['confirm', 'change', 'cancel']);

    const placed = chat.tap('confirm');
    const [create] = ofType(placed, 'create_order');
    const order = create?.order as OrderData;
    expect(create).toMatchObject({ customer, total: 6400, currency: 'EUR' });
    expect(order).toEqual({
      items: [
        { id: 'eth', article: 'CB-ETH', title: 'Ethiopia Yirgacheffe', count: 2, price: 1250, discount: 0, total: 2500 },
        { id: 'kettle', article: 'GEAR-KETTLE', title: 'Gooseneck Kettle', count: 1, price: 3900, discount: 0, total: 3900 },
      ],
      delivery: 'shipping',
      address: '1 Main Street, 12345 Town',
      recipient: 'Ada Lovelace',
      mobile: '+442079460958',
      time: 'tomorrow after 6pm',
      cost_cart: 6400,
      cost_discount: 0,
      cost_delivery: 0,
      cost_total: 6400,
      currency: 'EUR',
    });
    expect(said(placed)).toContain('Placing your order for €64.00');
    expect(chat.value).toBe('idle');
    expect(chat.context).toMatchObject({ cart: [], checkout: {} });
  });

  it('charges shipping below the free threshold, and nothing for pickup without asking an address', () => {
    const shipping = start();
    shipping.send(...steps.delivery!, ...steps.address!, ...steps.recipient!, ...steps.mobile!, ...steps.time!);
    const [create] = ofType([...shipping.send(...steps.summary!), ...shipping.tap('confirm')], 'create_order');
    expect(create).toMatchObject({ total: 2990, order: { cost_cart: 2500, cost_delivery: 490, cost_total: 2990 } });

    const pickup = start();
    pickup.send(...steps.delivery!, { type: 'payload', payload: 'delivery:pickup' });
    expect(pickup.value).toEqual({ checkout: 'recipient' });
    pickup.send(...steps.mobile!, ...steps.time!);
    expect(said(pickup.say('asap'))).toContain('Pickup at the shop: free');
    const [order] = ofType(pickup.say('yes'), 'create_order');
    expect(order).toMatchObject({ total: 2500, order: { delivery: 'pickup', address: '', cost_delivery: 0, time: 'as soon as possible' } });
  });

  it('edits the cart: changes a quantity, removes a line, empties it', () => {
    const chat = start();
    chat.send({ type: 'payload', payload: 'qty:eth:1' }, { type: 'payload', payload: 'qty:col:1' });
    expect(offered(chat.tap('cart'))).toEqual(['checkout', 'edit:eth', 'edit:col', 'empty', 'browse', 'menu']);
    expect(offered(chat.tap('edit:eth'))).toEqual(['set:eth:0', 'set:eth:1', 'set:eth:2', 'set:eth:3', 'cancel']);
    expect(chat.value).toBe('editingQuantity');
    expect(said(chat.say('3'))).toContain('3 × Ethiopia Yirgacheffe: €37.50');
    expect(cartOf(chat)).toEqual([{ productId: 'eth', quantity: 3 }, { productId: 'col', quantity: 1 }]);
    expect(said(chat.tap('set:col:0'))).toContain('Colombia Huila is out of your cart');
    expect(cartOf(chat)).toEqual([{ productId: 'eth', quantity: 3 }]);
    expect(said(chat.tap('empty'))).toContain('Your cart is empty now');
    expect(cartOf(chat)).toEqual([]);
    expect(said(chat.tap('checkout'))).toContain('Your cart is empty');
    expect(chat.value).toBe('idle');
  });

  it('takes a WhatsApp cart, lists unknown and sold-out products, and goes straight to checkout', () => {
    const chat = start();
    chat.tap('qty:col:5');
    const effects = chat.send({
      type: 'cart_order',
      items: [
        { ref: 'CB-ETH', quantity: 2, price: 1250, currency: 'EUR' },
        { ref: 'sencha', quantity: 1 },
        { ref: 'GHOST-1', quantity: 1 },
        { ref: 'CB-KEN', quantity: 1 },
      ],
    });
    expect(cartOf(chat)).toEqual([{ productId: 'eth', quantity: 2 }, { productId: 'sencha', quantity: 1 }]);
    const text = said(effects);
    expect(text).toContain('Got your cart: 3 items, €34.80');
    expect(text).toContain("I couldn't find these products: GHOST-1");
    expect(text).toContain('Out of stock, left out: Kenya AA');
    expect(chat.value).toEqual({ checkout: 'delivery' });
    expect(offered(effects)).toEqual(['delivery:pickup', 'delivery:shipping', 'cancel']);
  });

  it('stays on the menu when nothing in a WhatsApp cart can be ordered', () => {
    const chat = start();
    const effects = chat.send({ type: 'cart_order', items: [{ ref: 'GHOST-1', quantity: 1 }] });
    expect(said(effects)).toContain('None of the products in that cart can be ordered');
    expect(chat.value).toBe('idle');
  });

  it.each(Object.keys(steps))('returns to the menu from checkout step %s, keeping the cart', (step) => {
    const menus: Input[] = [
      { type: 'text', text: 'menu' },
      { type: 'text', text: '/start' },
      { type: 'payload', payload: 'menu' },
      { type: 'command', command: 'menu' },
      { type: 'task_due', taskId: 1, command: '/start' },
    ];
    for (const menu of menus) {
      const chat = walkTo(step as keyof typeof steps);
      const effects = chat.send(menu);
      expect(chat.value).toBe('idle');
      expect(offered(effects)).toEqual(['browse', 'search', 'cart', 'orders', 'help']);
      expect(cartOf(chat)).toEqual([{ productId: 'eth', quantity: 2 }]);
    }
  });

  it('resumes checkout where the customer left it', () => {
    const chat = walkTo('mobile');
    chat.say('menu');
    chat.tap('checkout');
    expect(chat.value).toEqual({ checkout: 'mobile' });
  });

  it('shows help in a step and asks the question again', () => {
    const chat = walkTo('recipient');
    const texts = replies(chat.say('help')).map((message) => (message as TextMessage).text);
    expect(texts[0]).toContain('Here is what you can do');
    expect(texts[1]).toContain('Who will receive the order?');
    expect(chat.value).toEqual({ checkout: 'recipient' });
  });

  it('answers unknown input with help that lists what the customer can do', () => {
    const chat = start();
    for (const input of [
      { type: 'text', text: 'qwertyuiop' },
      { type: 'payload', payload: 'no-such-button' },
      { type: 'command', command: 'dance' },
      { type: 'task_due', taskId: 1, command: 'dance' },
    ] as Input[]) {
      const effects = chat.send(input);
      expect(said(effects)).toContain("Sorry, I didn't catch that.");
      expect(said(effects)).toContain('Browse');
      expect(offered(effects)).toEqual(['browse', 'search', 'cart', 'orders', 'help']);
    }
  });

  it('asks for the mobile again with a clear hint when it is bad', () => {
    const chat = walkTo('mobile');
    expect(said(chat.say('call me'))).toContain('only digits, spaces, dashes, brackets and a leading +');
    expect(said(chat.say('12345'))).toContain('too short: it needs at least 7 digits');
    expect(said(chat.say('1234567890123456789'))).toContain('too long');
    expect(chat.value).toEqual({ checkout: 'mobile' });
    chat.say('(555) 123-4567');
    expect(chat.value).toEqual({ checkout: 'time' });
    expect(chat.context).toMatchObject({ checkout: { mobile: '5551234567' } });
  });

  it('asks again for a delivery, address or name it cannot take', () => {
    const chat = walkTo('delivery');
    expect(said(chat.say('by pigeon'))).toContain('Please choose Pickup or Shipping');
    chat.say('Shipping');
    expect(chat.value).toEqual({ checkout: 'address' });
    expect(said(chat.say('here'))).toContain('That address looks too short');
    chat.say('1 Main Street, 12345 Town');
    expect(said(chat.say('A'))).toContain('a name of 2 to 100 characters');
    expect(said(chat.tap('confirm'))).toContain('a name of 2 to 100 characters');
    expect(chat.value).toEqual({ checkout: 'recipient' });
  });

  it('changes one answer from the summary and comes back to it', () => {
    const chat = walkTo('changing');
    expect(offered(chat.effects.slice(-1))).toEqual([
      'change:delivery',
      'change:address',
      'change:recipient',
      'change:mobile',
      'change:time',
      'cart',
      'change:summary',
      'cancel',
    ]);
    chat.tap('change:mobile');
    expect(chat.value).toEqual({ checkout: 'mobile' });
    const summary = said(chat.say('+49 30 1234567'));
    expect(summary).toContain('For: Ada Lovelace, +49301234567');
    expect(chat.value).toEqual({ checkout: 'summary' });
    chat.say('change');
    chat.say('delivery');
    chat.tap('delivery:pickup');
    expect(chat.value).toEqual({ checkout: 'summary' });
    expect(said(chat.effects.slice(-1))).not.toContain('To:');
  });

  it('cancels checkout and keeps the cart', () => {
    const chat = walkTo('summary');
    expect(said(chat.tap('cancel'))).toContain('Checkout cancelled. Your cart is kept');
    expect(chat.value).toBe('idle');
    expect(cartOf(chat)).toEqual([{ productId: 'eth', quantity: 2 }]);
  });

  it('remembers order updates and lists them under My orders with status names', () => {
    const chat = start();
    expect(said(chat.tap('orders'))).toContain('You have no orders yet');
    const update = (status: number, paid = false) =>
      chat.send({ type: 'order_update', orderId: 7, status, paid, total: 2990, currency: 'EUR' });
    expect(update(0)).toEqual([]);
    update(70, true);
    update(20);
    expect(said(chat.tap('orders'))).toContain('#7: on its way, €29.90, paid');
  });

  it('treats commands and due tasks as the command text, and ignores message statuses', () => {
    const chat = start();
    chat.tap('qty:eth:1');
    expect(said(chat.send({ type: 'task_due', taskId: 3, command: 'cart' }))).toContain('1 × Ethiopia Yirgacheffe');
    expect(offered(chat.send({ type: 'command', command: 'browse' }))).toContain('cat:Coffee');
    expect(chat.send({ type: 'message_status', messageId: 'm1', status: 'read' })).toEqual([]);
    const asking = walkTo('recipient');
    expect(said(asking.send({ type: 'command', command: 'cart' }))).toContain('Your cart:');
    expect(asking.value).toBe('idle');
  });

  it('starts over with a notice when a stored snapshot is of another version', () => {
    const event = (text: string): InboundEvent => ({ type: 'text', text, id: text, key: 'conv:test:shop:u1' as ActorKey, at: 0, address: customer });
    const first = step(compileFlow(shopFlow, services), null, event('hi'));
    const next = step(compileFlow({ ...shopFlow, version: 2 }, services), { ...first.envelope, rev: 1 }, event('cart'));
    expect(next.recovered).toBe('restarted');
    expect(replies(next.effects)[0]).toEqual({ kind: 'text', text: expect.stringContaining('start our conversation over') });
    expect(replies(next.effects)[1]).toMatchObject({ kind: 'text', text: expect.stringContaining('Your cart is empty') });
  });
});

describe('the shop machine as a graph', () => {
  const machine = createShopMachine(services);
  const envelope = { id: 'g', key: 'conv:test:shop:u1' as ActorKey, at: 1, address: customer };
  const events = (
    [
      { type: 'text', text: 'hi' },
      { type: 'payload', payload: 'search' },
      { type: 'payload', payload: 'add:eth' },
      { type: 'payload', payload: 'qty:eth:1' },
      { type: 'payload', payload: 'edit:eth' },
      { type: 'payload', payload: 'checkout' },
      { type: 'payload', payload: 'delivery:shipping' },
      { type: 'text', text: '1 Main Street, 12345 Town' },
      { type: 'text', text: '+44 20 7946 0958' },
      { type: 'payload', payload: 'time:asap' },
      { type: 'payload', payload: 'change' },
      { type: 'payload', payload: 'confirm' },
    ] as Input[]
  ).map((input) => ({ ...envelope, ...input }) as InboundEvent);
  // A state is its value plus what guards read: whether the cart has items, which answers checkout has.
  const serializeState = (snapshot: AnyMachineSnapshot) => {
    const context = snapshot.context as ShopContext;
    const answered = Object.entries(context.checkout).filter(([, value]) => value !== undefined).map(([key]) => key);
    return JSON.stringify({ value: snapshot.value, cart: context.cart.length > 0, answered });
  };
  const input: FlowInput = { key: envelope.key, address: customer };
  const paths = getShortestPaths(machine, { events, input, serializeState });
  const flat = (value: unknown): string =>
    typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([key, inner]) => `${key}.${flat(inner)}`).join();

  it('reaches every state of the shop machine', () => {
    const leaves = getStateNodes(machine.root)
      .filter((node) => Object.keys(node.states).length === 0 && node.always === undefined)
      .map((node) => node.path.join('.'));
    expect(leaves).toContain('checkout.summary');
    const reached = new Set(paths.map((path) => flat(path.state.value)));
    expect([...leaves].sort()).toEqual([...reached].sort());
  });

  it('answers every input on every path, and "menu" always leads back to the menu with the cart kept', () => {
    for (const path of paths) {
      const chat = start();
      for (const { event } of path.steps.slice(1)) chat.send(event as Input);
      expect(replies(chat.tap('no-such-button')).length).toBeGreaterThan(0);
      const cart = cartOf(chat);
      expect(replies(chat.say('menu')).length).toBeGreaterThan(0);
      expect(chat.value).toBe('idle');
      expect(cartOf(chat)).toEqual(cart);
    }
  });
});
