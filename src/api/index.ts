/**
 * The merchant API: methods over orders, customers, tasks and messages, the
 * `send_template` push endpoint, and the OpenAPI document generated from the same schemas.
 */
export { createTokenCheck, presentedToken, type Caller, type TokenCheck } from './auth.js';
export { minorUnits } from './amounts.js';
export { methodFailure, success, templateFailure, type FailEnvelope, type Failure, type SuccessEnvelope } from './envelope.js';
export { defineMethod, type ApiMethod, type MethodContext } from './method.js';
export { merchantMethods } from './methods/index.js';
export { merchantOpenApi, type OpenApiDocument } from './openapi.js';
export { createRateLimiter, type RateLimiter, type RateVerdict } from './rate-limit.js';
export { createMerchantApi, type MerchantApiOptions } from './router.js';
export * from './schemas.js';
export { sendTemplate, templateErrorBody, type SendTemplateAnswer, type SendTemplateError } from './send-template.js';
export { defaultPushTexts, receiptPush, shippingPush, type PushTexts } from './template-messages.js';
export { createKeyedLock, type KeyedLock } from './keyed-lock.js';
