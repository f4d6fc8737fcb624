import { EngineError } from '../core/errors.js';
import { conversationKey, type Address } from '../core/ids.js';
import type { OutboundMessage } from '../core/outbound.js';
import type { MethodContext } from './method.js';
import { sendTemplateBodies, sendTemplateHeadSchema, type TemplateName } from './schemas.js';
import { defaultPushTexts, receiptPush, shippingPush, type PushTexts } from './template-messages.js';
import { parseInput } from './validation.js';

/** What `send_template` answers once the push is stored (and answers again for the same `request.id`). */
export interface SendTemplateAnswer {
  readonly request_id: string | number;
  readonly recipient_id: string;
}

/** The error body of `send_template`, shaped like the Graph API's. */
export interface SendTemplateError {
  readonly error: {
    readonly code: number;
    readonly error_subcode: number;
    readonly type: string;
    readonly message: string;
    readonly request_id: string | number | null;
  };
}

/** The error codes of `send_template` by engine error code (channels.md B.7 for the Graph ones they mirror). */
const graphCodes: Partial<Record<EngineError['code'], { code: number; subcode: number; type: string }>> = {
  BAD_REQUEST: { code: 100, subcode: 0, type: 'invalid_parameter' },
  PAYLOAD_TOO_LARGE: { code: 100, subcode: 0, type: 'invalid_parameter' },
  NOT_FOUND: { code: 10010, subcode: 2018001, type: 'recipient_not_found' },
  UNAUTHORIZED: { code: 190, subcode: 0, type: 'unauthorized' },
  RATE_LIMITED: { code: 4, subcode: 0, type: 'rate_limited' },
};

/**
 * The Graph-shaped error body for a failure of `send_template`: code 100 for a body or
 * params that fail validation, 10010 "Recipient not found", 190 for a token, 4 for the rate
 * limit, 2 for a fault of ours.
 * @example templateErrorBody('NOT_FOUND', 'Recipient not found', 'r-1').error.code // 10010
 */
export function templateErrorBody(code: EngineError['code'] | 'OTHER', message: string, requestId: string | number | null): SendTemplateError {
  const mapped = code === 'OTHER' ? undefined : graphCodes[code];
  const { code: graphCode, subcode, type } = mapped ?? { code: 2, subcode: 0, type: 'internal' };
  return { error: { code: graphCode, error_subcode: subcode, type, message, request_id: requestId } };
}

/** The push's `request.id` when the body has one, for error answers. */
export function pushRequestId(body: unknown): string | number | null {
  const request = (body as { request?: { id?: unknown } } | null)?.request;
  const id = typeof request === 'object' && request !== null ? request.id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/**
 * `POST /api/v1/send_template`: validates the push body, finds the recipient among the
 * customers of every channel (on the `page_id` account when given), and stores a `push`
 * event for their conversation; the channel renders the message (Messenger: the receipt
 * template). The event's dedupe id is the push's `request.id`, so the same request twice
 * sends once and answers the same. The message's plain text is in `texts`.
 * @example await sendTemplate(req.body, context, ['messenger', 'whatsapp', 'telegram', 'web'])
 */
export async function sendTemplate(
  body: unknown,
  context: MethodContext,
  channels: readonly string[],
  texts: PushTexts = defaultPushTexts,
): Promise<SendTemplateAnswer> {
  const head = parseInput(sendTemplateHeadSchema, body);
  const name: TemplateName = head.request.template_name;
  const { request, recipient, params } = parseInput(sendTemplateBodies[name], body);
  const address = await findRecipient(context, channels, recipient.id, request.page_id);
  if (!address) throw new EngineError('NOT_FOUND', 'Recipient not found');
  const now = context.clock();
  const message: OutboundMessage = 'order_number' in params ? receiptPush(params, now, texts) : shippingPush(params, texts);
  const result = await context.engine.ingest([
    { type: 'push', id: `push:${String(request.id)}`, key: conversationKey(address), at: now, address, message },
  ]);
  context.logger.info(
    { requestId: context.requestId, caller: context.caller.name, template: name, pushId: request.id, channel: address.channel, duplicate: result.duplicates > 0 },
    'template pushed',
  );
  return { request_id: request.id, recipient_id: recipient.id };
}

async function findRecipient(context: MethodContext, channels: readonly string[], user: string, account: string | undefined): Promise<Address | null> {
  for (const channel of channels) {
    const customer = await context.engine.store.findCustomer({ channel, user, ...(account === undefined ? {} : { account }) });
    if (customer) return customer.address;
  }
  return null;
}
