import { EngineError } from '../../core/errors.js';
import { defineMethod } from '../method.js';
import { getMessageSchema, listMessagesSchema, retryNotificationsSchema } from '../schemas.js';
import { messagePageSchema, messageView, messageViewSchema, requeuedSchema, type MessageView } from '../views.js';

/** `getMessage`: one message of the log. */
export const getMessage = defineMethod({
  summary: 'A message the shop sent (or is sending): its delivery status and history.',
  input: getMessageSchema,
  output: messageViewSchema,
  run: async ({ id }, { engine }) => {
    const item = await engine.store.getOutbox(id);
    const customer = item?.effect.type === 'reply' ? await engine.store.findCustomer(item.effect.to) : null;
    const view = item ? messageView(item, customer?.id ?? null) : null;
    if (!view) throw new EngineError('NOT_FOUND', `message ${id} not found`);
    return view;
  },
});

/** `listMessages`: a page of a customer's messages. */
export const listMessages = defineMethod({
  summary: "The messages sent to a customer, oldest first; page with `after` = the `next` of the page before.",
  input: listMessagesSchema,
  output: messagePageSchema,
  run: async ({ user_id, after, limit }, { engine }) => {
    const customer = await engine.store.getCustomer(user_id);
    if (!customer) throw new EngineError('NOT_FOUND', `customer ${user_id} not found`);
    const rows = await engine.store.messagesTo(customer.address, after ?? 0, limit + 1);
    const page = rows.slice(0, limit);
    const messages = page.map((row) => messageView(row, customer.id)).filter((view): view is MessageView => view !== null);
    return { messages, next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  },
});

/** `retryNotifications`: requeues given-up CRM notifications. */
export const retryNotifications = defineMethod({
  summary: 'Sends again the CRM notifications that were given up (dead after CRM_MAX_ATTEMPTS).',
  input: retryNotificationsSchema,
  output: requeuedSchema,
  run: async (_input, { engine, requestId, caller, logger }) => {
    const requeued = await engine.retryFailed('notify_crm');
    logger.info({ requestId, caller: caller.name, requeued }, 'CRM notifications requeued');
    return { requeued };
  },
});
