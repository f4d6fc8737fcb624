import { z } from 'zod';

/**
 * The channel-neutral outbound message model. Flows say what to show; each channel renders
 * it into its platform's richest fitting format. Money is in integer minor units.
 */

/** A choice the customer can tap: it comes back as a `payload` event. */
export const choiceSchema = z.object({
  title: z.string().min(1),
  payload: z.string().min(1),
});
export type Choice = z.infer<typeof choiceSchema>;

/** A button: a choice, or a link to open. */
export const buttonSchema = z.union([
  choiceSchema,
  z.object({ title: z.string().min(1), url: z.url() }),
]);
export type Button = z.infer<typeof buttonSchema>;

const moneySchema = z.number().int();

/** Whether a message answers the customer or is news the shop sends on its own (order updates). */
export const intentSchema = z.enum(['response', 'update']);

/**
 * The titles channels show when a message carries none of its own: messages built outside
 * the shop's flows (the merchant API, an embedder's flow) and messages stored before the
 * titles were part of the model. A shop's flows set theirs from the shop's texts.
 */
export const fallbackTitles = {
  /** The button that opens a receipt's `orderUrl`. */
  orderUrl: 'View order',
  /** The button that opens a shipping update's `trackingUrl`. */
  trackingUrl: 'Track package',
  /** The button that opens the choices where a channel folds them into a list (WhatsApp). */
  choices: 'Choose',
} as const;

export const textMessageSchema = z.object({
  kind: z.literal('text'),
  text: z.string().min(1),
  /** Actions attached to this message (a few; channels cap them). */
  buttons: z.array(buttonSchema).optional(),
  /** Suggested answers shown under the message (a few more; channels cap them). */
  quickReplies: z.array(choiceSchema).optional(),
  /**
   * The title of the button that opens the choices, on channels that fold many choices into
   * a list behind one button (WhatsApp, beyond 3); channels cut it to their limit and show
   * `fallbackTitles.choices` ("Choose") without it.
   */
  choicesTitle: z.string().min(1).optional(),
});

export const productCardSchema = z.object({
  id: z.string(),
  article: z.string().optional(),
  title: z.string(),
  description: z.string(),
  price: moneySchema,
  currency: z.string().length(3),
  /** The price as the customer reads it, e.g. "€12.50". */
  priceText: z.string(),
  imageUrl: z.string().optional(),
  available: z.boolean(),
  buttons: z.array(buttonSchema),
});
export type ProductCard = z.infer<typeof productCardSchema>;

export const productsMessageSchema = z.object({
  kind: z.literal('products'),
  text: z.string().optional(),
  products: z.array(productCardSchema).min(1),
  quickReplies: z.array(choiceSchema).optional(),
  /**
   * The title of the button that opens the choices (the cards' and the quick replies'), on
   * channels that fold many choices into a list behind one button (WhatsApp); channels cut
   * it to their limit and show `fallbackTitles.choices` ("Choose") without it.
   */
  choicesTitle: z.string().min(1).optional(),
});

export const postalAddressSchema = z.object({
  street1: z.string(),
  street2: z.string().optional(),
  city: z.string(),
  postalCode: z.string(),
  state: z.string(),
  country: z.string(),
});
export type PostalAddress = z.infer<typeof postalAddressSchema>;

export const receiptMessageSchema = z.object({
  kind: z.literal('receipt'),
  orderId: z.number().int(),
  orderNumber: z.string(),
  recipientName: z.string(),
  currency: z.string().length(3),
  paymentMethod: z.string(),
  orderUrl: z.string().optional(),
  /**
   * The title of the button that opens `orderUrl`; channels cut it to their limit and show
   * `fallbackTitles.orderUrl` ("View order") without it.
   */
  orderUrlTitle: z.string().min(1).optional(),
  /** Seconds since the epoch. */
  timestamp: z.number().int(),
  /** The delivery address when the order ships; as one line when it is not structured. */
  address: postalAddressSchema.optional(),
  addressText: z.string().optional(),
  delivery: z.enum(['pickup', 'shipping']),
  items: z
    .array(
      z.object({
        title: z.string(),
        subtitle: z.string().optional(),
        quantity: z.number().int().positive(),
        price: moneySchema,
        currency: z.string().length(3),
        imageUrl: z.string().optional(),
      }),
    )
    .min(1),
  summary: z.object({
    subtotal: moneySchema,
    shippingCost: moneySchema,
    totalTax: moneySchema,
    totalCost: moneySchema,
  }),
  adjustments: z.array(z.object({ name: z.string(), amount: moneySchema })),
  /** The receipt as plain lines, for channels without a receipt template. */
  text: z.string(),
});

export const shippingUpdateMessageSchema = z.object({
  kind: z.literal('shipping_update'),
  orderId: z.number().int(),
  status: z.number().int(),
  statusText: z.string(),
  text: z.string(),
  packageNumber: z.string().optional(),
  trackingUrl: z.string().optional(),
  /**
   * The title of the button that opens `trackingUrl`; channels cut it to their limit and
   * show `fallbackTitles.trackingUrl` ("Track package") without it.
   */
  trackingUrlTitle: z.string().min(1).optional(),
  imageUrl: z.string().optional(),
});

/**
 * A bill the customer can pay in the chat, on channels with in-chat payments (Telegram);
 * `text` is what a channel without them shows instead.
 */
export const invoiceMessageSchema = z.object({
  kind: z.literal('invoice'),
  orderId: z.number().int().positive(),
  title: z.string().min(1),
  description: z.string().min(1),
  currency: z.string().length(3),
  lines: z.array(z.object({ label: z.string().min(1), amount: moneySchema })).min(1),
  photoUrl: z.string().optional(),
  text: z.string().min(1),
});

export const outboundMessageSchema = z
  .discriminatedUnion('kind', [
    textMessageSchema,
    productsMessageSchema,
    receiptMessageSchema,
    shippingUpdateMessageSchema,
    invoiceMessageSchema,
  ])
  .and(z.object({ intent: intentSchema.optional() }));

export type OutboundMessage = z.infer<typeof outboundMessageSchema>;
export type TextMessage = z.infer<typeof textMessageSchema> & { intent?: 'response' | 'update' };
export type ProductsMessage = z.infer<typeof productsMessageSchema> & { intent?: 'response' | 'update' };
export type ReceiptMessage = z.infer<typeof receiptMessageSchema> & { intent?: 'response' | 'update' };
export type ShippingUpdateMessage = z.infer<typeof shippingUpdateMessageSchema> & {
  intent?: 'response' | 'update';
};
export type InvoiceMessage = z.infer<typeof invoiceMessageSchema> & { intent?: 'response' | 'update' };
