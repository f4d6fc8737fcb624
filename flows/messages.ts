import type { MobileProblem } from '../src/commerce/mobile.js';
import type { ReceiptTexts } from '../src/commerce/receipt.js';

/** Order statuses as the customer reads them (the contract's codes). */
const statusNames: Readonly<Record<number, string>> = {
  0: 'received',
  10: 'awaiting processing',
  20: 'confirmed',
  30: 'cancelled',
  40: 'paid',
  50: 'refunded',
  60: 'packed',
  70: 'on its way',
  80: 'delivered',
  90: 'handed over',
};

const inCart = (count: number) => (count > 0 ? `You have ${count} item${count === 1 ? '' : 's'} in your cart. ` : '');

/**
 * Every text the customer reads, from both flows, in one object. A shop rewords or
 * translates them by passing its own `Texts` to `createShopServices`. Amounts arrive
 * already formatted ("€12.50"). `words` are what a typed message is recognized by
 * (folded: lowercase, no accents); button titles come back as payloads, not words.
 */
export const texts = {
  /** The locale amounts are formatted in. */
  locale: 'en',

  buttons: {
    browse: 'Browse',
    search: 'Search',
    cart: 'Cart',
    orders: 'My orders',
    help: 'Help',
    menu: 'Menu',
    addToCart: 'Add to cart',
    details: 'Details',
    checkout: 'Checkout',
    keepShopping: 'Keep shopping',
    emptyCart: 'Empty cart',
    edit: (title: string) => `Edit ${title}`,
    remove: 'Remove',
    otherCategory: 'Other',
    pickup: 'Pickup',
    shipping: 'Shipping',
    asap: 'As soon as possible',
    confirm: 'Confirm',
    change: 'Change',
    cancel: 'Cancel',
    changeDelivery: 'Delivery',
    changeAddress: 'Address',
    changeRecipient: 'Name',
    changeMobile: 'Mobile',
    changeTime: 'Time',
    backToSummary: 'Back to summary',
    /** Opens the choices where a channel lists them behind one button (WhatsApp, beyond 3; at most 20 characters). */
    choose: 'Choose',
    /** Opens a shipping update's tracking link (at most 20 characters on Messenger and WhatsApp). */
    trackPackage: 'Track package',
  },

  words: {
    menu: ['menu', '/menu', 'start', '/start', 'main menu'],
    greeting: ['hi', 'hello', 'hey', 'hiya', 'good morning', 'good afternoon', 'good evening'],
    help: ['help', '/help', '?', 'what can you do'],
    cancel: ['cancel', '/cancel', 'stop'],
    browse: ['browse', '/browse', 'catalog', 'catalogue', 'products', 'shop', 'categories'],
    search: ['search', '/search', 'find'],
    cart: ['cart', '/cart', 'my cart', 'basket', 'bag'],
    orders: ['orders', '/orders', 'my orders', 'order status'],
    checkout: ['checkout', '/checkout', 'check out', 'pay'],
    emptyCart: ['empty cart', 'clear cart'],
    product: ['product'],
    pickup: ['pickup', 'pick up', 'pick-up', 'collect', 'collection'],
    shipping: ['shipping', 'ship', 'delivery', 'deliver', 'send'],
    asap: ['asap', 'now', 'as soon as possible', 'soon'],
    confirm: ['confirm', 'yes', 'ok', 'okay', 'yep', 'sure'],
    change: ['change', 'edit', 'no'],
    changeDelivery: ['delivery', 'pickup', 'shipping'],
    changeAddress: ['address'],
    changeRecipient: ['name', 'recipient'],
    changeMobile: ['mobile', 'phone', 'number'],
    changeTime: ['time', 'when'],
    backToSummary: ['back', 'summary', 'nothing'],
  },

  greeting: (cartCount: number) => `Hi! Welcome to our coffee & tea shop ☕\n${inCart(cartCount)}What would you like to do?`,
  menu: (cartCount: number) => `${inCart(cartCount)}What would you like to do?`,
  help: [
    'Here is what you can do:',
    '• Browse: our products by category',
    '• Search: type "search" and a few words, like "search ethiopia"',
    '• Cart: see and change your cart, then check out',
    '• My orders: your orders and where they are',
    '• Menu: back to the start, any time (your cart stays)',
    'Tap "Add to cart" under a product to buy it.',
  ].join('\n'),
  unknown: "Sorry, I didn't catch that.",
  cancelled: 'OK. What would you like to do next?',
  restarted: 'Sorry, our shop was updated and we had to start our conversation over. Type "menu" to continue.',

  pickCategory: 'What are you looking for?',
  noCategories: 'Everything we sell is in one list: type "search" and a word to find it.',
  categoryTitle: (category: string, count: number, shown: number) =>
    `${category}: ${count} product${count === 1 ? '' : 's'}${shown < count ? ` (the first ${shown})` : ''}`,
  askSearch: 'What are you looking for? Type a few words, like "ethiopia" or "kettle".',
  searchResults: (words: string, count: number, shown: number) =>
    `Found ${count} for "${words}"${shown < count ? ` (the best ${shown})` : ''}:`,
  searchNothing: (words: string) => `Nothing matches "${words}". Try other words, or browse the categories.`,
  productNotFound: (ref: string) => `Sorry, I can't find the product "${ref}". Have a look at the categories?`,
  productDetails: (title: string, price: string, description: string, available: boolean) =>
    `${title}: ${price}\n${description}\n${available ? 'In stock.' : 'Out of stock right now.'}`,

  askQuantity: (title: string, price: string) => `How many ${title} (${price} each)? Tap a number or type one.`,
  askNewQuantity: (title: string, current: number) => `You have ${current} × ${title}. How many would you like? 0 removes it.`,
  quantityInvalid: (max: number) => `Please send a number from 1 to ${max}, or tap one of the buttons.`,
  newQuantityInvalid: (max: number) => `Please send a number from 0 to ${max} (0 removes it), or tap a button.`,
  outOfStock: (title: string) => `Sorry, ${title} is out of stock right now.`,
  onlyLeft: (title: string, left: number) => `We have only ${left} × ${title}, so that is what your cart holds.`,
  added: (count: number, title: string, cartCount: number, subtotal: string) =>
    `Added ${count} × ${title}. Your cart: ${cartCount} item${cartCount === 1 ? '' : 's'}, ${subtotal}.`,
  removed: (title: string) => `${title} is out of your cart.`,
  notInCart: 'That product is not in your cart any more.',
  cartEmpty: 'Your cart is empty. Browse the categories or search to fill it.',
  cartEmptied: 'Your cart is empty now.',
  cartTitle: 'Your cart:',
  cartLine: (count: number, title: string, total: string) => `${count} × ${title}: ${total}`,
  cartSubtotal: (subtotal: string) => `Subtotal: ${subtotal}`,
  deliveryNote: (fee: string, freeFrom: string) => `Pickup is free; shipping costs ${fee}, free from ${freeFrom}.`,
  unavailableRemoved: (titles: readonly string[]) => `No longer available, taken out of your cart: ${titles.join(', ')}.`,

  cartOrderReceived: (count: number, subtotal: string) =>
    `Got your cart: ${count} item${count === 1 ? '' : 's'}, ${subtotal}. Let's check out.`,
  cartOrderUnknown: (refs: readonly string[]) => `I couldn't find these products: ${refs.join(', ')}.`,
  cartOrderOutOfStock: (titles: readonly string[]) => `Out of stock, left out: ${titles.join(', ')}.`,
  cartOrderLimited: (titles: readonly string[]) => `Fewer than you asked for, all we have: ${titles.join(', ')}.`,
  cartOrderNothing: 'None of the products in that cart can be ordered right now.',

  askDelivery: (subtotal: string, fee: string, freeFrom: string) =>
    `Your cart comes to ${subtotal}. How would you like to get it? ` +
    `Pickup at the shop is free; shipping costs ${fee} (free from ${freeFrom}).`,
  deliveryInvalid: 'Please choose Pickup or Shipping.',
  askAddress: 'Where should we ship it? Street and number, postcode and city, in one message.',
  addressInvalid: 'That address looks too short. Please send street and number, postcode and city.',
  askRecipient: 'Who will receive the order? A full name, please.',
  recipientInvalid: 'Please send a name of 2 to 100 characters.',
  askMobile: 'Which mobile number can we reach you on? For example +44 20 7946 0958.',
  mobileInvalid: (problem: MobileProblem) =>
    ({
      empty: 'Please send a mobile number.',
      characters: 'A phone number has only digits, spaces, dashes, brackets and a leading +.',
      too_short: 'That number is too short: it needs at least 7 digits.',
      too_long: 'That number is too long: it can have at most 15 digits.',
    })[problem] + ' For example +44 20 7946 0958.',
  askTime: 'When would you like it? For example "tomorrow after 6pm", or tap As soon as possible.',
  timeInvalid: 'Please say when, in up to 200 characters, or tap As soon as possible.',
  asap: 'as soon as possible',
  summaryTitle: 'Your order:',
  summaryDelivery: (delivery: 'pickup' | 'shipping', cost: string) =>
    delivery === 'pickup' ? 'Pickup at the shop: free' : `Shipping: ${cost}`,
  summaryTotal: (total: string) => `Total: ${total}`,
  summaryDetails: (recipient: string, mobile: string, address: string | undefined, time: string) =>
    [`For: ${recipient}, ${mobile}`, ...(address ? [`To: ${address}`] : []), `When: ${time}`].join('\n'),
  summaryQuestion: 'Is everything right?',
  summaryInvalid: 'Please tap Confirm to place the order, Change to correct something, or Cancel.',
  askChange: 'What would you like to change?',
  changeInvalid: 'Please pick what to change, or go back to the summary.',
  checkoutCancelled: 'Checkout cancelled. Your cart is kept for later.',
  placingOrder: (total: string) => `Thank you! Placing your order for ${total}… your receipt follows in a moment.`,

  noOrders: 'You have no orders yet.',
  ordersTitle: 'Your orders:',
  orderLine: (orderId: number, status: string, total: string | undefined, paid: boolean) =>
    `#${orderId}: ${status}${total ? `, ${total}` : ''}${paid ? ', paid' : ''}`,

  /** Order statuses as the customer reads them. */
  statusNames,
  statusUpdate: (orderId: number, status: number) =>
    ({
      20: `Good news: your order #${orderId} is confirmed.`,
      30: `Your order #${orderId} was cancelled. If that is a surprise, just write to us.`,
      40: `Your order #${orderId} is paid. Thank you!`,
      50: `We issued a refund for your order #${orderId}.`,
      60: `Your order #${orderId} is packed and ready for dispatch.`,
      70: `Your order #${orderId} is on its way.`,
      80: `Your order #${orderId} was delivered. Enjoy!`,
      90: `Your order #${orderId} was handed over. Enjoy!`,
    })[status] ?? `Your order #${orderId} is now: ${statusNames[status] ?? status}.`,
  paymentReceived: (orderId: number, total: string) => `We received your payment of ${total} for order #${orderId}. Thank you!`,

  receipt: {
    orderTitle: (orderId: number) => `Order #${orderId}`,
    itemLine: (count: number, title: string, total: string) => `${count} × ${title}: ${total}`,
    subtotal: 'Subtotal',
    discount: 'Discount',
    total: 'Total',
    delivery: { pickup: 'Pickup', shipping: 'Shipping' },
    free: 'free',
    paymentMethod: { pickup: 'Pay at pickup', shipping: 'Pay on delivery' },
    recipient: 'For',
    address: 'To',
    time: 'When',
    /** Opens the order's page, when the receipt links to one. */
    viewOrder: 'View order',
  } satisfies ReceiptTexts,
  /** The bill a customer can pay in the chat, where the channel takes payments (Telegram). */
  invoice: {
    title: (orderId: number) => `Order #${orderId}`,
    description: (count: number) => `${count} item${count === 1 ? '' : 's'} from our coffee & tea shop. Tap Pay to pay now.`,
    line: (title: string, count: number) => (count === 1 ? title : `${title} × ${count}`),
    delivery: 'Delivery',
    text: (orderId: number, total: string) => `Order #${orderId}: ${total} to pay.`,
  },

  /** The rating flow (flows/rating.ts): asked once an order is delivered. */
  rating: {
    ask: (orderId: number) => `Your order #${orderId} was delivered. How did we do? Tap a score from 1 to 5.`,
    score: (score: number) => `${score} ${'★'.repeat(score)}`,
    thanks: (score: number) =>
      score >= 4 ? 'Thank you! We are glad you liked it ☕' : 'Thank you for telling us. We will do better next time.',
    already: 'You already rated this order. Thank you!',
    invalid: 'Please tap a score from 1 to 5.',
  },
};

/** The shape of the texts: a translation provides every one of them. */
export type Texts = typeof texts;

/** The default English texts. */
export const defaultTexts: Texts = texts;
