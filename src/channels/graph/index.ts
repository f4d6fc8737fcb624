/** What Messenger and WhatsApp share: Meta's webhook checks, the Graph API client and its error table. */
export { createGraphClient, type GraphAnswer, type GraphClient, type GraphClientOptions } from './client.js';
export { graphError, graphNetworkError, waitHintMs, type GraphErrorBody, type GraphHeaders } from './errors.js';
export { sendParts, type PartProgress } from './parts.js';
export { createSignatureVerifier, safeEqual, type SignatureVerifier } from './signature.js';
export { verifySubscription } from './subscription.js';
export { splitText, truncate } from './text.js';
export {
  messagingWindowMs,
  planDelivery,
  templateComponents,
  type DeliveryPlan,
  type TemplateCall,
  type TemplateConfig,
} from './window.js';
