/** Background jobs the server runs beside the engine: the CRM notifier. */
export { toBracketedQuery, rfc3986 } from './bracketed-query.js';
export { createCrmNotifier, signatureHeader, type CrmNotifier, type CrmNotifierConfig, type CrmNotifierDeps } from './crm-notifier.js';
export { crmNotification, notifiedOrderSchema, type CrmNotification } from './crm-payload.js';
