import { z } from 'zod';
import { orderItemSchema, type CrmPayload } from '../commerce/order.js';

/**
 * The new-order notification as the CRM receives it: the contract's fields, in the
 * contract's order. Amounts are integers in minor units of the shop's currency (1250 is
 * €12.50), exactly as the order model keeps them: no float ever touches them.
 */
export type CrmNotification = CrmPayload & { readonly user_id: number };

/** The `order` a `notify_crm` effect carries (`crmPayload` of commerce, `user_id` usually absent). */
export const notifiedOrderSchema = z.object({
  id: z.number().int().positive(),
  user_id: z.number().int().positive().optional(),
  user_chat_id: z.string(),
  channel: z.string(),
  cost_total: z.number().int(),
  cost_cart: z.number().int(),
  cost_discount: z.number().int(),
  cost_delivery: z.number().int(),
  delivery: z.enum(['pickup', 'shipping']),
  time: z.string(),
  recipient: z.string(),
  address: z.string(),
  mobile: z.string(),
  goods: z.array(orderItemSchema),
});

/**
 * The notification of an effect's order with the store's customer id, built field by field
 * so that nothing else ever reaches the CRM and the order of the keys is the contract's.
 * @example crmNotification(notifiedOrderSchema.parse(effect.order), 7).user_id // 7
 */
export function crmNotification(order: z.infer<typeof notifiedOrderSchema>, userId: number): CrmNotification {
  return {
    id: order.id,
    user_id: userId,
    user_chat_id: order.user_chat_id,
    channel: order.channel,
    cost_total: order.cost_total,
    cost_cart: order.cost_cart,
    cost_discount: order.cost_discount,
    cost_delivery: order.cost_delivery,
    delivery: order.delivery,
    time: order.time,
    recipient: order.recipient,
    address: order.address,
    mobile: order.mobile,
    goods: order.goods.map((item) => ({
      id: item.id,
      article: item.article,
      title: item.title,
      count: item.count,
      price: item.price,
      discount: item.discount,
      total: item.total,
    })),
  };
}
