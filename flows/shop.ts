import { enqueueActions, setup } from 'xstate';
import type { Effect } from '../src/core/effects.js';
import type { InboundEvent } from '../src/core/events.js';
import { defineFlow, type FlowInput } from '../src/core/flow.js';
import type { ShopServices } from './services.js';
import * as browse from './shop/browse.js';
import * as cart from './shop/cart.js';
import * as checkout from './shop/checkout.js';
import { effectsOf, initialContext, type Check, type Handler, type ShopContext } from './shop/context.js';
import { readInput, type IntentKind } from './shop/input.js';

/**
 * The customer's conversation: a menu, browsing and search, product cards, a cart, and a
 * checkout that ends in a `create_order` effect. Pure: it reads the catalog and texts from
 * its services, time from events, and says everything through emitted effects.
 *
 * Input is read the same way everywhere (see `shop/input.ts`): on the menu every word is
 * understood; while a step waits for an answer (a name, a number) only menu, help and
 * cancel are words, anything else is the answer. Buttons and commands work from any state.
 */
export function createShopMachine(services: ShopServices) {
  const act = (handler: Handler) =>
    enqueueActions<ShopContext, InboundEvent, undefined, InboundEvent, never, never, never, never, Effect>(
      ({ context, event, enqueue }) => {
        const outcome = handler(services, context, event);
        if (outcome.context) enqueue.assign(outcome.context);
        for (const effect of effectsOf(outcome, context, event)) enqueue.emit(effect);
      },
    );
  type GuardArgs = { context: ShopContext; event: InboundEvent };
  const test = (check: Check) => ({ context, event }: GuardArgs) => check(services, context, event);
  /** A step's answer: a typed text or a tapped button that is not menu, help or cancel. */
  const isAnswer = (event: InboundEvent) =>
    (event.type === 'text' || event.type === 'payload') && readInput(event, services.texts, false).kind === 'other';
  const answer = (check: Check) => (args: GuardArgs) => isAnswer(args.event) && check(services, args.context, args.event);

  return setup({
    types: {
      context: {} as ShopContext,
      events: {} as InboundEvent,
      input: {} as FlowInput,
      emitted: {} as Effect,
    },
    guards: {
      is: ({ event }, params: { kind: IntentKind; loose: boolean }) =>
        readInput(event, services.texts, params.loose).kind === params.kind,
      answer: ({ event }) => isAnswer(event),
      typedAnswer: ({ event }) => event.type === 'text' && isAnswer(event),
      needs: ({ context }, field: checkout.CheckoutField) => checkout.needs(context.checkout, field),
      canAdd: test(cart.canAdd),
      canEdit: test(cart.canEdit),
      canCheckout: (args) => readInput(args.event, services.texts, true).kind === 'checkout' && test(cart.cartReady)(args),
      cartOrderUsable: test(cart.cartOrderUsable),
      freeTextMatches: test(browse.freeTextMatches),
      quantityAnswer: answer(cart.quantityAnswer),
      newQuantityAnswer: answer(cart.newQuantityAnswer),
      deliveryAnswer: answer(checkout.deliveryAnswer),
      addressAnswer: answer(checkout.addressAnswer),
      recipientAnswer: answer(checkout.recipientAnswer),
      mobileAnswer: answer(checkout.mobileAnswer),
      timeAnswer: answer(checkout.timeAnswer),
      confirmAnswer: answer(checkout.confirmAnswer),
      changeAnswer: answer(checkout.changeAnswer),
      changeChoice: answer(checkout.changeChoice),
    },
    actions: {
      showMenu: act(browse.showMenu),
      showHelp: act(browse.showHelp),
      showUnknown: act(browse.showUnknown),
      cancelled: act(browse.cancelled),
      showCategories: act(browse.showCategories),
      showCategory: act(browse.showCategory),
      askSearch: act(browse.askSearch),
      showSearch: act(browse.showSearch),
      showFreeTextResults: act(browse.showFreeTextResults),
      showProduct: act(browse.showProduct),
      answerProductQuestion: act(browse.answerProductQuestion),
      showOrders: act(browse.showOrders),
      recordOrder: act(browse.recordOrder),
      rememberProduct: act(cart.rememberProduct),
      cannotAdd: act(cart.cannotAdd),
      askQuantity: act(cart.askQuantity),
      addQuantity: act(cart.addQuantity),
      addPending: act(cart.addPending),
      quantityInvalid: act(cart.quantityInvalid),
      askNewQuantity: act(cart.askNewQuantity),
      setFromPayload: act(cart.setFromPayload),
      setPending: act(cart.setPending),
      newQuantityInvalid: act(cart.newQuantityInvalid),
      emptyCart: act(cart.emptyCart),
      showCart: act(cart.showCart),
      takeCartOrder: act(cart.takeCartOrder),
      beginCheckout: act(checkout.beginCheckout),
      askDelivery: act(checkout.askDelivery),
      chooseDelivery: act(checkout.chooseDelivery),
      deliveryInvalid: act(checkout.deliveryInvalid),
      askAddress: act(checkout.askAddress),
      saveAddress: act(checkout.saveAddress),
      addressInvalid: act(checkout.addressInvalid),
      askRecipient: act(checkout.askRecipient),
      saveRecipient: act(checkout.saveRecipient),
      recipientInvalid: act(checkout.recipientInvalid),
      askMobile: act(checkout.askMobile),
      saveMobile: act(checkout.saveMobile),
      mobileInvalid: act(checkout.mobileInvalid),
      askTime: act(checkout.askTime),
      saveTime: act(checkout.saveTime),
      timeInvalid: act(checkout.timeInvalid),
      showSummary: act(checkout.showSummary),
      summaryInvalid: act(checkout.summaryInvalid),
      placeOrder: act(checkout.placeOrder),
      askChange: act(checkout.askChange),
      changeField: act(checkout.changeField),
      changeInvalid: act(checkout.changeInvalid),
      checkoutCancelled: act(checkout.checkoutCancelled),
    },
  }).createMachine({
    id: 'shop',
    context: ({ input }) => initialContext(input),
    initial: 'idle',
    on: {
      text: [
        { guard: { type: 'is', params: { kind: 'menu', loose: false } }, target: '.idle', actions: 'showMenu' },
        { guard: { type: 'is', params: { kind: 'help', loose: false } }, actions: 'showHelp' },
        { guard: { type: 'is', params: { kind: 'cancel', loose: false } }, target: '.idle', actions: 'cancelled' },
        { actions: 'showUnknown' },
      ],
      payload: [...routes(), { actions: 'showUnknown' }],
      command: [...routes(), { actions: 'showUnknown' }],
      task_due: [...routes(), { actions: 'showUnknown' }],
      product_question: { target: '.idle', actions: 'answerProductQuestion' },
      cart_order: [
        { guard: 'cartOrderUsable', target: '.checkout', actions: 'takeCartOrder' },
        { target: '.idle', actions: 'takeCartOrder' },
      ],
      order_update: { actions: 'recordOrder' },
    },
    states: {
      idle: {
        on: {
          text: [...routes(), { guard: 'freeTextMatches', actions: 'showFreeTextResults' }, { actions: 'showUnknown' }],
        },
      },
      searching: {
        entry: 'askSearch',
        on: {
          text: [helpHere('searching'), { guard: 'typedAnswer', target: 'idle', actions: 'showSearch' }],
          payload: [helpHere('searching'), { guard: 'answer', target: 'searching', reenter: true }],
        },
      },
      askingQuantity: prompt(
        'askingQuantity',
        'askQuantity',
        { guard: 'quantityAnswer', target: 'idle', actions: 'addPending' },
        'quantityInvalid',
      ),
      editingQuantity: prompt(
        'editingQuantity',
        'askNewQuantity',
        { guard: 'newQuantityAnswer', target: 'idle', actions: 'setPending' },
        'newQuantityInvalid',
      ),
      checkout: {
        initial: 'next',
        on: {
          text: { guard: { type: 'is', params: { kind: 'cancel', loose: false } }, target: '#shop.idle', actions: 'checkoutCancelled' },
          payload: { guard: { type: 'is', params: { kind: 'cancel', loose: true } }, target: '#shop.idle', actions: 'checkoutCancelled' },
          command: { guard: { type: 'is', params: { kind: 'cancel', loose: true } }, target: '#shop.idle', actions: 'checkoutCancelled' },
          task_due: { guard: { type: 'is', params: { kind: 'cancel', loose: true } }, target: '#shop.idle', actions: 'checkoutCancelled' },
        },
        states: {
          /** Asks for the first missing answer, or shows the summary when none is missing. */
          next: {
            always: [
              { guard: { type: 'needs', params: 'delivery' }, target: 'delivery' },
              { guard: { type: 'needs', params: 'address' }, target: 'address' },
              { guard: { type: 'needs', params: 'recipient' }, target: 'recipient' },
              { guard: { type: 'needs', params: 'mobile' }, target: 'mobile' },
              { guard: { type: 'needs', params: 'time' }, target: 'time' },
              { target: 'summary' },
            ],
          },
          delivery: prompt(
            'delivery',
            'askDelivery',
            { guard: 'deliveryAnswer', target: 'next', actions: 'chooseDelivery' },
            'deliveryInvalid',
          ),
          address: prompt(
            'address',
            'askAddress',
            { guard: 'addressAnswer', target: 'next', actions: 'saveAddress' },
            'addressInvalid',
          ),
          recipient: prompt(
            'recipient',
            'askRecipient',
            { guard: 'recipientAnswer', target: 'next', actions: 'saveRecipient' },
            'recipientInvalid',
          ),
          mobile: prompt(
            'mobile',
            'askMobile',
            { guard: 'mobileAnswer', target: 'next', actions: 'saveMobile' },
            'mobileInvalid',
          ),
          time: prompt(
            'time',
            'askTime',
            { guard: 'timeAnswer', target: 'next', actions: 'saveTime' },
            'timeInvalid',
          ),
          summary: prompt(
            'summary',
            'showSummary',
            [
              { guard: 'confirmAnswer', target: '#shop.idle', actions: 'placeOrder' },
              { guard: 'changeAnswer', target: 'changing' },
            ],
            'summaryInvalid',
          ),
          changing: prompt(
            'changing',
            'askChange',
            { guard: 'changeChoice', target: 'next', actions: 'changeField' },
            'changeInvalid',
          ),
        },
      },
    },
  });
}

/** A route for an intent, from anywhere: buttons, commands, due tasks, and text on the menu. */
function route<const A extends string | undefined = undefined>(kind: IntentKind, target: string | undefined, actions?: A) {
  return { guard: { type: 'is', params: { kind, loose: true } }, target, actions: actions as A } as const;
}

/** Every intent's route, in order: the first whose guard holds is taken. */
function routes() {
  return [
    route('menu', '#shop.idle', 'showMenu'),
    route('help', undefined, 'showHelp'),
    route('cancel', '#shop.idle', 'cancelled'),
    route('browse', '#shop.idle', 'showCategories'),
    route('category', '#shop.idle', 'showCategory'),
    route('find', '#shop.idle', 'showSearch'),
    route('search', '#shop.searching'),
    route('cart', '#shop.idle', 'showCart'),
    route('orders', '#shop.idle', 'showOrders'),
    route('product', '#shop.idle', 'showProduct'),
    { guard: 'canAdd', target: '#shop.askingQuantity', actions: 'rememberProduct' } as const,
    route('add', '#shop.idle', 'cannotAdd'),
    route('qty', '#shop.idle', 'addQuantity'),
    { guard: 'canEdit', target: '#shop.editingQuantity', actions: 'rememberProduct' } as const,
    route('edit', '#shop.idle', 'showCart'),
    route('set', '#shop.idle', 'setFromPayload'),
    route('empty', '#shop.idle', 'emptyCart'),
    { guard: 'canCheckout', target: '#shop.checkout', actions: 'beginCheckout' } as const,
    route('checkout', '#shop.idle', 'showCart'),
  ];
}

/** Help while a step waits: the help, then the step's question again. */
function helpHere(self: string) {
  return { guard: { type: 'is', params: { kind: 'help', loose: false } }, target: self, reenter: true, actions: 'showHelp' } as const;
}

/**
 * A step that asks a question on entry and waits for the answer: `answers` take it, any
 * other text or step button gets `invalid` (which asks again with a hint). Menu, cancel and
 * the global buttons fall through to the parent states.
 */
function prompt<const E extends string, const I extends string, const T extends object>(
  self: string,
  entry: E,
  answers: T | readonly T[],
  invalid: I,
) {
  const list = Array.isArray(answers) ? (answers as readonly T[]) : [answers as T];
  const fallback = { guard: 'answer', actions: invalid } as const;
  return { entry, on: { text: [helpHere(self), ...list, fallback], payload: [helpHere(self), ...list, fallback] } };
}

/**
 * The customer conversation flow, one actor per customer (`conv:<channel>:<account>:<user>`).
 * @example
 * const engine = createEngine({ store, flows: [shopFlow, orderFlow], services: createShopServices(catalog) });
 */
export const shopFlow = defineFlow<ShopServices>({
  id: 'shop',
  version: 1,
  kind: 'conv',
  machine: (services) => createShopMachine(services),
  restartNotice: (event, { texts }) =>
    event.address ? [{ type: 'reply', to: event.address, message: { kind: 'text', text: texts.restarted } }] : [],
});
