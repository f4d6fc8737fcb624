import { priceCart, pricingRules, type Delivery } from '../../src/commerce/cart.js';
import { parseMobile } from '../../src/commerce/mobile.js';
import { buildOrderData } from '../../src/commerce/order.js';
import type { InboundEvent } from '../../src/core/events.js';
import type { Choice } from '../../src/core/outbound.js';
import type { ShopServices } from '../services.js';
import type { Check, CheckoutDraft, Handler } from './context.js';
import { normalizeText, payloads } from './input.js';
import { cartMessage, menuChoices, money, textMessage } from './views.js';

/** The fields checkout asks for, in order. */
export const checkoutFields = ['delivery', 'address', 'recipient', 'mobile', 'time'] as const;
export type CheckoutField = (typeof checkoutFields)[number];

/** Whether checkout still has to ask for a field (the address only when shipping). */
export function needs(draft: CheckoutDraft, field: CheckoutField): boolean {
  if (field === 'address') return draft.delivery === 'shipping' && !draft.address;
  return !draft[field];
}

const limits = { address: [5, 300], recipient: [2, 100], time: [1, 200] } as const;

/** The typed text of an answer, or the payload of a tapped button. */
function said(event: InboundEvent): { text: string; payload?: string } {
  if (event.type === 'payload') return { text: '', payload: event.payload };
  return { text: event.type === 'text' ? event.text.trim() : '' };
}

function typedWithin(event: InboundEvent, [min, max]: readonly [number, number]): string | undefined {
  const { text } = said(event);
  return text.length >= min && text.length <= max ? text : undefined;
}

/** Whether a typed text is one of the words, or a button's title. */
function typedOneOf(event: InboundEvent, words: readonly string[], ...titles: string[]): boolean {
  const text = normalizeText(said(event).text);
  return text !== '' && (words.includes(text) || titles.some((title) => normalizeText(title) === text));
}

function deliveryOf({ texts }: ShopServices, event: InboundEvent): Delivery | undefined {
  const { payload } = said(event);
  if (payload === payloads.delivery('pickup')) return 'pickup';
  if (payload === payloads.delivery('shipping')) return 'shipping';
  if (typedOneOf(event, texts.words.pickup, texts.buttons.pickup)) return 'pickup';
  if (typedOneOf(event, texts.words.shipping, texts.buttons.shipping)) return 'shipping';
  return undefined;
}

function timeOf({ texts }: ShopServices, event: InboundEvent): string | undefined {
  if (said(event).payload === payloads.asap || typedOneOf(event, texts.words.asap, texts.buttons.asap)) return texts.asap;
  return typedWithin(event, limits.time);
}

const changeTargets = ['delivery', 'address', 'recipient', 'mobile', 'time', 'summary'] as const;
type ChangeTarget = (typeof changeTargets)[number];

function changeOf({ texts }: ShopServices, event: InboundEvent): ChangeTarget | undefined {
  const { payload } = said(event);
  const { words, buttons } = texts;
  const typed: Record<ChangeTarget, boolean> = {
    delivery: typedOneOf(event, words.changeDelivery, buttons.changeDelivery),
    address: typedOneOf(event, words.changeAddress, buttons.changeAddress),
    recipient: typedOneOf(event, words.changeRecipient, buttons.changeRecipient),
    mobile: typedOneOf(event, words.changeMobile, buttons.changeMobile),
    time: typedOneOf(event, words.changeTime, buttons.changeTime),
    summary: typedOneOf(event, words.backToSummary, buttons.backToSummary),
  };
  return changeTargets.find((target) => payload === payloads.changeField(target) || typed[target]);
}

const ask = (services: ShopServices, text: string, choices: Choice[] = []) => ({ replies: [textMessage(services, text, choices)] });

/** A step's question: its own choices, then Cancel, so no step is a dead end. */
const askStep = (services: ShopServices, text: string, choices: Choice[] = []) =>
  ask(services, text, [...choices, { title: services.texts.buttons.cancel, payload: payloads.cancel }]);

/** Checkout starts (or resumes): drop lines the catalog no longer sells. */
export const beginCheckout: Handler = (services, context) => ({
  context: { cart: cartMessage(services, context.cart).cart, pending: undefined, greeted: true },
});

export const askDelivery: Handler = (services, context) => {
  const { texts } = services;
  const subtotal = money(services, priceCart(context.cart, services.catalog).subtotal);
  const fee = money(services, pricingRules.shippingFee);
  const text = texts.askDelivery(subtotal, fee, money(services, pricingRules.freeShippingFrom));
  return askStep(services, text, deliveryChoices(services));
};

function deliveryChoices({ texts }: ShopServices): Choice[] {
  return [
    { title: texts.buttons.pickup, payload: payloads.delivery('pickup') },
    { title: texts.buttons.shipping, payload: payloads.delivery('shipping') },
  ];
}

export const deliveryAnswer: Check = (services, _context, event) => deliveryOf(services, event) !== undefined;
export const chooseDelivery: Handler = (services, context, event) => {
  const delivery = deliveryOf(services, event);
  const address = delivery === 'shipping' ? context.checkout.address : undefined;
  return { context: { checkout: { ...context.checkout, delivery, address } } };
};
export const deliveryInvalid: Handler = (services) =>
  askStep(services, services.texts.deliveryInvalid, deliveryChoices(services));

export const askAddress: Handler = (services) => askStep(services, services.texts.askAddress);
export const addressAnswer: Check = (_services, _context, event) => typedWithin(event, limits.address) !== undefined;
export const saveAddress: Handler = (_services, context, event) => ({
  context: { checkout: { ...context.checkout, address: typedWithin(event, limits.address) } },
});
export const addressInvalid: Handler = (services) => askStep(services, services.texts.addressInvalid);

export const askRecipient: Handler = (services) => askStep(services, services.texts.askRecipient);
export const recipientAnswer: Check = (_services, _context, event) => typedWithin(event, limits.recipient) !== undefined;
export const saveRecipient: Handler = (_services, context, event) => ({
  context: { checkout: { ...context.checkout, recipient: typedWithin(event, limits.recipient) } },
});
export const recipientInvalid: Handler = (services) => askStep(services, services.texts.recipientInvalid);

export const askMobile: Handler = (services) => askStep(services, services.texts.askMobile);
export const mobileAnswer: Check = (_services, _context, event) => event.type === 'text' && parseMobile(event.text).ok;
export const saveMobile: Handler = (_services, context, event) => {
  const parsed = parseMobile(said(event).text);
  return parsed.ok ? { context: { checkout: { ...context.checkout, mobile: parsed.mobile } } } : {};
};
/** A bad number is asked again, with what was wrong with it. */
export const mobileInvalid: Handler = (services, _context, event) => {
  const parsed = parseMobile(said(event).text);
  return askStep(services, services.texts.mobileInvalid(parsed.ok ? 'characters' : parsed.problem));
};

const asapChoice = ({ texts }: ShopServices) => ({ title: texts.buttons.asap, payload: payloads.asap });
export const askTime: Handler = (services) => askStep(services, services.texts.askTime, [asapChoice(services)]);
export const timeAnswer: Check = (services, _context, event) => timeOf(services, event) !== undefined;
export const saveTime: Handler = (services, context, event) => ({
  context: { checkout: { ...context.checkout, time: timeOf(services, event) } },
});
export const timeInvalid: Handler = (services) =>
  askStep(services, services.texts.timeInvalid, [asapChoice(services)]);

function summaryChoices({ texts }: ShopServices): Choice[] {
  return [
    { title: texts.buttons.confirm, payload: payloads.confirm },
    { title: texts.buttons.change, payload: payloads.change },
    { title: texts.buttons.cancel, payload: payloads.cancel },
  ];
}

/** Everything the order will be, for the customer to confirm. */
export const showSummary: Handler = (services, context) => {
  const { texts, catalog } = services;
  const { checkout } = context;
  const priced = priceCart(context.cart, catalog, { delivery: checkout.delivery ?? 'pickup' });
  const text = [
    texts.summaryTitle,
    ...priced.lines.map((line) => texts.cartLine(line.quantity, line.product.title, money(services, line.total))),
    texts.cartSubtotal(money(services, priced.subtotal)),
    texts.summaryDelivery(priced.delivery ?? 'pickup', money(services, priced.deliveryCost)),
    texts.summaryTotal(money(services, priced.total)),
    texts.summaryDetails(
      checkout.recipient ?? '',
      checkout.mobile ?? '',
      checkout.delivery === 'shipping' ? checkout.address : undefined,
      checkout.time ?? '',
    ),
    texts.summaryQuestion,
  ].join('\n');
  return ask(services, text, summaryChoices(services));
};

export const confirmAnswer: Check = (services, context, event) =>
  (said(event).payload === payloads.confirm || typedOneOf(event, services.texts.words.confirm, services.texts.buttons.confirm)) &&
  checkoutFields.every((field) => !needs(context.checkout, field)) &&
  priceCart(context.cart, services.catalog).lines.length > 0;

export const changeAnswer: Check = (services, _context, event) =>
  said(event).payload === payloads.change || typedOneOf(event, services.texts.words.change, services.texts.buttons.change);

export const summaryInvalid: Handler = (services) => ask(services, services.texts.summaryInvalid, summaryChoices(services));

/** Confirmed: ask the engine to create the order; the order flow sends the receipt. */
export const placeOrder: Handler = (services, context, event) => {
  const customer = event.address ?? context.customer;
  const { checkout } = context;
  const priced = priceCart(context.cart, services.catalog, { delivery: checkout.delivery ?? 'pickup' });
  const order = buildOrderData(priced, {
    ...(checkout.address === undefined ? {} : { address: checkout.address }),
    recipient: checkout.recipient ?? '',
    mobile: checkout.mobile ?? '',
    time: checkout.time ?? '',
  });
  if (!customer) return {};
  return {
    context: { cart: [], checkout: {}, pending: undefined },
    effects: [{ type: 'create_order', customer, total: order.cost_total, currency: order.currency, order }],
    replies: [textMessage(services, services.texts.placingOrder(money(services, order.cost_total, order.currency)), menuChoices(services))],
  };
};

function changeChoices({ texts }: ShopServices, draft: CheckoutDraft): Choice[] {
  const { buttons } = texts;
  const choice = (title: string, target: ChangeTarget) => ({ title, payload: payloads.changeField(target) });
  return [
    choice(buttons.changeDelivery, 'delivery'),
    ...(draft.delivery === 'shipping' ? [choice(buttons.changeAddress, 'address')] : []),
    choice(buttons.changeRecipient, 'recipient'),
    choice(buttons.changeMobile, 'mobile'),
    choice(buttons.changeTime, 'time'),
    { title: buttons.cart, payload: payloads.cart },
    choice(buttons.backToSummary, 'summary'),
  ];
}

export const askChange: Handler = (services, context) =>
  askStep(services, services.texts.askChange, changeChoices(services, context.checkout));

export const changeChoice: Check = (services, _context, event) => changeOf(services, event) !== undefined;

/** Forgets the chosen answer, so checkout asks for it again and comes back to the summary. */
export const changeField: Handler = (services, context, event) => {
  const target = changeOf(services, event);
  if (target === undefined || target === 'summary') return {};
  return { context: { checkout: { ...context.checkout, [target]: undefined } } };
};

export const changeInvalid: Handler = (services, context) =>
  askStep(services, services.texts.changeInvalid, changeChoices(services, context.checkout));

export const checkoutCancelled: Handler = (services) => ask(services, services.texts.checkoutCancelled, menuChoices(services));
