import { z } from 'zod';
import { orderDataSchema, orderItemSchema, statusName } from '../commerce/order.js';
import { EngineError } from '../core/errors.js';
import { outboundMessageSchema } from '../core/outbound.js';
import { taskStatus, type CustomerRecord, type OrderRecord, type OutboxItem, type TaskRecord } from '../core/store.js';

/**
 * What the methods answer in `data`, as zod schemas (the OpenAPI document shows them) and
 * the functions that build them from store records. Amounts are integers in minor units
 * of `currency`, like the CRM notification; times are Unix seconds.
 */

const seconds = (ms: number): number => Math.floor(ms / 1_000);
const unixSeconds = () => z.number().int().meta({ description: 'Unix time in seconds.' });
const minor = () => z.number().int().meta({ description: 'Minor units of `currency` (1250 is 12.50).' });

/** An order as the API answers it: the CRM notification's fields plus status, paid flag, currency and times. */
export const orderViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  user_chat_id: z.string().meta({ description: "The customer's id on their channel." }),
  channel: z.string(),
  status: z.number().int(),
  status_text: z.string(),
  paid: z.boolean(),
  currency: z.string(),
  cost_total: minor(),
  cost_cart: minor(),
  cost_discount: minor(),
  cost_delivery: minor(),
  delivery: z.enum(['pickup', 'shipping']),
  time: z.string(),
  recipient: z.string(),
  address: z.string(),
  mobile: z.string(),
  goods: z.array(orderItemSchema),
  created_at: unixSeconds(),
  updated_at: unixSeconds(),
  history: z
    .array(z.object({ status: z.number().int(), status_text: z.string(), paid: z.boolean(), at: unixSeconds() }))
    .meta({ description: 'Every change of status or paid flag since the order was created, oldest first.' }),
});
/** An order as the API answers it. */
export type OrderView = z.infer<typeof orderViewSchema>;

/** An order as the API answers it. */
export function orderView(order: OrderRecord): OrderView {
  const data = orderDataSchema.safeParse(order.data);
  if (!data.success) throw new EngineError('INTERNAL', `order ${order.id}: the stored order is not an order model`);
  const d = data.data;
  return {
    id: order.id,
    user_id: order.customerId,
    user_chat_id: order.customer.user,
    channel: order.customer.channel,
    status: order.status,
    status_text: statusName(order.status) ?? String(order.status),
    paid: order.paid,
    currency: d.currency,
    cost_total: d.cost_total,
    cost_cart: d.cost_cart,
    cost_discount: d.cost_discount,
    cost_delivery: d.cost_delivery,
    delivery: d.delivery,
    time: d.time,
    recipient: d.recipient,
    address: d.address,
    mobile: d.mobile,
    goods: d.items.map((item) => ({ ...item })),
    created_at: seconds(order.createdAt),
    updated_at: seconds(order.updatedAt),
    history: order.history.map((change) => ({ status: change.status, status_text: statusName(change.status) ?? String(change.status), paid: change.paid, at: seconds(change.at) })),
  };
}

/** A page of `listOrders`. */
export const orderPageSchema = z.object({
  orders: z.array(orderViewSchema),
  next: z.number().int().nullable().meta({ description: 'Pass as `after` for the next page; null on the last page.' }),
});

/** A customer as `findCustomer` answers it. */
export const customerViewSchema = z.object({
  user_id: z.number().int(),
  channel: z.string(),
  external_id: z.string(),
  created_at: unixSeconds(),
});

/** A customer as the API answers it. */
export function customerView(customer: CustomerRecord): z.infer<typeof customerViewSchema> {
  return { user_id: customer.id, channel: customer.address.channel, external_id: customer.address.user, created_at: seconds(customer.createdAt) };
}

const taskStatusTexts: Readonly<Record<number, string>> = {
  [taskStatus.waiting]: 'waiting',
  [taskStatus.done]: 'done',
  [taskStatus.removed]: 'removed',
  [taskStatus.failed]: 'failed',
};

/** A task as `getTask` and `removeTask` answer it. */
export const taskViewSchema = z.object({
  status: z.literal([0, 1, 2, 3]).meta({ description: '0 waiting, 1 done, 2 removed, 3 failed.' }),
  status_text: z.enum(['waiting', 'done', 'removed', 'failed']),
  done_at: z.number().int().meta({ description: 'When it ran (Unix seconds); 0 until then.' }),
});

/** A task as the API answers it: its status, and when it ran. */
export function taskView(task: TaskRecord): z.infer<typeof taskViewSchema> {
  const ran = task.status === taskStatus.done || task.status === taskStatus.failed;
  return {
    status: task.status,
    status_text: (taskStatusTexts[task.status] ?? 'waiting') as z.infer<typeof taskViewSchema>['status_text'],
    done_at: ran && task.doneAt !== undefined ? seconds(task.doneAt) : 0,
  };
}

/** What `addTask` answers. */
export const taskIdSchema = z.object({ id: z.number().int() });

/** A message of the log (an outbox reply row) as `getMessage` answers it. */
export const messageViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int().nullable(),
  channel: z.string(),
  external_id: z.string(),
  platform_message_id: z.string().nullable().meta({ description: "The platform's id of the sent message." }),
  status: z.string().meta({ description: 'pending, sent, delivered, read, failed or blocked: the latest known.' }),
  error: z.string().nullable(),
  history: z.array(z.object({ status: z.string(), at: unixSeconds(), error: z.string().optional() })),
  created_at: unixSeconds(),
  message: outboundMessageSchema,
});
/** A message of the log as the API answers it. */
export type MessageView = z.infer<typeof messageViewSchema>;

/** A message of the log (an outbox reply row) as the API answers it; null for any other row. */
export function messageView(item: OutboxItem, userId: number | null): MessageView | null {
  const { effect } = item;
  if (effect.type !== 'reply') return null;
  return {
    id: item.id,
    user_id: userId,
    channel: effect.to.channel,
    external_id: effect.to.user,
    platform_message_id: item.platformId ?? null,
    status: item.history.at(-1)?.status ?? item.status,
    error: item.error ?? null,
    history: item.history.map((entry) => ({ status: entry.status, at: seconds(entry.at), ...(entry.error === undefined ? {} : { error: entry.error }) })),
    created_at: seconds(item.createdAt),
    message: effect.message,
  };
}

/** A page of `listMessages`. */
export const messagePageSchema = z.object({
  messages: z.array(messageViewSchema),
  next: z.number().int().nullable().meta({ description: 'Pass as `after` for the next page; null on the last page.' }),
});

/** What `retryNotifications` answers. */
export const requeuedSchema = z.object({ requeued: z.number().int() });
