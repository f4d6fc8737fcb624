import { z } from 'zod';
import { orderStatuses } from '../commerce/order.js';
import { minorUnits } from './amounts.js';
import { currencyCode, cursor, decimalAmount, httpUrl, pageLimit, positiveId, requiredOr, text } from './fields.js';

/**
 * Every request body of the merchant API as a zod schema: the one source for validating a
 * call and for the OpenAPI document (`openapi.ts`). Unknown fields are refused (strict
 * objects): a misspelt optional field would otherwise be ignored without a word.
 */

const statusCodes = orderStatuses.map((status) => status.code);
const statusList = statusCodes.join(', ');

/** An order status code of the contract. */
export const orderStatusField = () =>
  z
    .literal(statusCodes, { error: requiredOr(`must be one of ${statusList}`) })
    .meta({ description: orderStatuses.map((status) => `${status.code} ${status.name}`).join(', ') });

const byId = (what: string) => z.strictObject({ id: positiveId().meta({ description: `The ${what}'s id.` }) });

/** `getOrder {id}`. */
export const getOrderSchema = byId('order');
/** `listOrders {status?, limit? (1-100, 20), after?}`. */
export const listOrdersSchema = z.strictObject({
  status: orderStatusField().optional(),
  limit: pageLimit(),
  after: cursor().optional().meta({ description: 'Orders with an id above this: the `next` of the page before.' }),
});
/** `updateOrderStatus {id, status}`: one of the ten status codes. */
export const updateOrderStatusSchema = z.strictObject({ id: positiveId(), status: orderStatusField() });
/** `paidOrder {id}`. */
export const paidOrderSchema = byId('order');
/** `findCustomer {channel, external_id}`. */
export const findCustomerSchema = z.strictObject({
  channel: text(1, 32).meta({ description: 'messenger, whatsapp, telegram or web.' }),
  external_id: text(1, 256).meta({ description: "The customer's id on the channel (a PSID, a wa_id, a Telegram chat id…)." }),
});
/** `addTask {user_id, command, timestamp}` (timestamp in seconds). */
export const addTaskSchema = z.strictObject({
  user_id: positiveId().meta({ description: 'The customer (`user_id` of findCustomer, getOrder, the CRM notification).' }),
  command: text(1, 1_024).meta({ description: 'Runs in the conversation as if the customer had sent it (e.g. `menu`).' }),
  timestamp: z
    .number({ error: requiredOr('must be a Unix time in seconds') })
    .int({ error: 'must be a Unix time in whole seconds' })
    .nonnegative({ error: 'must be a Unix time in seconds' })
    .max(253_402_300_799, { error: 'must be a Unix time in seconds (before the year 10000)' })
    .meta({ description: 'When to run it: Unix time in seconds (a time in the past runs at once).' }),
});
/** `removeTask {id}`. */
export const removeTaskSchema = byId('task');
/** `getTask {id}`. */
export const getTaskSchema = byId('task');
/** `getMessage {id}`: a message of the log. */
export const getMessageSchema = byId('message');
/** `listMessages {user_id, after?, limit? (1-100, 20)}`. */
export const listMessagesSchema = z.strictObject({ user_id: positiveId(), after: cursor().optional(), limit: pageLimit() });
/** `retryNotifications {}`. */
export const retryNotificationsSchema = z.strictObject({});

// send_template: the push body of the contract.

/** The push templates the contract names. */
export const templateNames = ['Order Receipt Push', 'Shipping Status Update Push'] as const;
/** A push template name of the contract. */
export type TemplateName = (typeof templateNames)[number];

const requestId = z
  .union([text(1, 256), z.number().int().nonnegative()], { error: requiredOr('must be a string or an integer') })
  .meta({ description: 'The push request id: the same id again sends nothing and answers the same.' });

const requestPart = <T extends z.ZodType>(templateName: T) =>
  z.strictObject({
    method: z.literal('send_template', { error: requiredOr('must be "send_template"') }),
    id: requestId,
    page_id: text(1, 128).optional().meta({ description: 'The shop account (Messenger page id) the recipient wrote to.' }),
    template_name: templateName,
  });

const recipientPart = z.strictObject({
  id: z
    .string({ error: requiredOr('must be a string (a PSID is too long for a JSON number)') })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(256, { error: 'must be at most 256 characters' })
    .meta({ description: "The customer's id on their channel (a Messenger PSID)." }),
});

/** The request part alone: read first, to pick the params schema by `template_name`. */
export const sendTemplateHeadSchema = z.object({
  request: requestPart(z.enum(templateNames, { error: requiredOr(`must be one of ${templateNames.map((name) => `"${name}"`).join(', ')}`) })),
  recipient: recipientPart,
  params: z.unknown(),
});

/** A postal address; every part but `street_2` is required (channels.md B.5). */
const postalAddress = z.strictObject({
  street_1: text(1, 256),
  street_2: text(0, 256).optional(),
  city: text(1, 128),
  postal_code: text(1, 32),
  state: text(1, 128),
  country: z.string({ error: requiredOr('must be a 2-letter country code') }).regex(/^[A-Z]{2}$/, { error: 'must be a 2-letter country code such as ES' }),
});

/** The params of an `Order Receipt Push` (channels.md B.5's receipt fields); amounts are checked against their currency. */
export const receiptParamsSchema = z.strictObject({
  recipient_name: text(1, 256),
  order_number: text(1, 128),
  currency: currencyCode(),
  payment_method: text(1, 256),
  order_url: httpUrl().optional(),
  timestamp: z
    .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,12}$/)], { error: requiredOr('must be a Unix time in seconds') })
    .optional()
    .meta({ description: 'The order time, Unix seconds (number or digit string); now when left out.' }),
  address: postalAddress.optional(),
  summary: z.strictObject({
    subtotal: decimalAmount().optional(),
    shipping_cost: decimalAmount().optional(),
    total_tax: decimalAmount().optional(),
    total_cost: decimalAmount(),
  }),
  adjustments: z.array(z.strictObject({ name: text(1, 256), amount: decimalAmount() })).max(50, { error: 'must hold at most 50 adjustments' }).optional(),
  elements: z
    .array(
      z.strictObject({
        title: text(1, 256),
        subtitle: text(0, 256).optional(),
        quantity: z.number({ error: 'must be a positive integer' }).int({ error: 'must be a positive integer' }).positive({ error: 'must be a positive integer' }).max(10_000).optional(),
        price: decimalAmount(),
        currency: currencyCode().optional(),
        image_url: httpUrl().optional(),
      }),
      { error: requiredOr('must be a list of items') },
    )
    .min(1, { error: 'must hold at least one item' })
    .max(100, { error: 'must hold at most 100 items' }),
}).superRefine((params, ctx) => {
  // Amounts are checked against their currency's minor digits here, so a push that passes
  // validation always converts to minor units exactly.
  const check = (amount: number | string | undefined, currency: string, path: PropertyKey[], nonNegative: boolean) => {
    if (amount === undefined) return;
    try {
      if (nonNegative && minorUnits(amount, currency) < 0) ctx.addIssue({ code: 'custom', path, message: 'must not be negative' });
    } catch (error) {
      ctx.addIssue({ code: 'custom', path, message: error instanceof Error ? error.message : 'is not an amount' });
    }
  };
  const { summary, currency } = params;
  check(summary.subtotal, currency, ['summary', 'subtotal'], true);
  check(summary.shipping_cost, currency, ['summary', 'shipping_cost'], true);
  check(summary.total_tax, currency, ['summary', 'total_tax'], true);
  check(summary.total_cost, currency, ['summary', 'total_cost'], true);
  params.adjustments?.forEach((adjustment, index) => check(adjustment.amount, currency, ['adjustments', index, 'amount'], false));
  params.elements.forEach((element, index) => check(element.price, element.currency ?? currency, ['elements', index, 'price'], true));
});

/** The params of a `Shipping Status Update Push`. */
export const shippingParamsSchema = z.strictObject({
  package_number: text(1, 128),
  package_status: text(1, 128).meta({ description: 'The status as the customer reads it ("Shipped", "Out for delivery").' }),
  package_status_description: text(0, 1_000).optional(),
  image_url: httpUrl().optional(),
  detailed_tracking_url: httpUrl().optional(),
  fb_first_name: text(1, 128).optional(),
});

const templateBody = <N extends TemplateName, P extends z.ZodType>(name: N, params: P) =>
  z.strictObject({ request: requestPart(z.literal(name)), recipient: recipientPart, params });

/** The whole push body of each template. */
export const sendTemplateBodies = {
  'Order Receipt Push': templateBody('Order Receipt Push', receiptParamsSchema),
  'Shipping Status Update Push': templateBody('Shipping Status Update Push', shippingParamsSchema),
} as const;

/** The push body: one of the templates' bodies (the OpenAPI document shows this). */
export const sendTemplateSchema = z.union([sendTemplateBodies['Order Receipt Push'], sendTemplateBodies['Shipping Status Update Push']]);

/** Receipt params, validated. */
export type ReceiptParams = z.output<typeof receiptParamsSchema>;
/** Shipping params, validated. */
export type ShippingParams = z.output<typeof shippingParamsSchema>;
