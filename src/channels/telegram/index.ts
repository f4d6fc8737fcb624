/** `orderly/telegram`: the Telegram channel (grammY). */
export { buttonsOf, callbackData, fitsCallbackData, maxCallbackDataBytes, resolveCallbackData, type ResolvedChoice } from './callback-data.js';
export { escapeHtml, escapeHtmlAttribute, truncate } from './html.js';
export { parseUpdate, type TelegramInput } from './parse-update.js';
export {
  checkPreCheckout,
  defaultPreCheckoutTexts,
  orderIdOfInvoice,
  renderInvoice,
  type PreCheckout,
  type PreCheckoutTexts,
  type TelegramInvoice,
} from './payments.js';
export { renderTelegram, telegramLimits, type TelegramCall } from './render.js';
export { redactToken, toDeliveryError } from './send-errors.js';
export { createTelegramPlugin, defaultThrottle, type TelegramConfig } from './telegram-plugin.js';
export { createThrottle, type TelegramThrottle, type ThrottleClock, type ThrottleOptions, type ThrottleTransformer } from './throttle.js';
