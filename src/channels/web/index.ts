export { createWebChannel, newWebUserId, type WebChannel, type WebChannelOptions } from './web-channel.js';
export {
  parseOrThrow,
  parseWebMessage,
  webPayloadSchema,
  webPollSchema,
  webTextSchema,
  webUserSchema,
  type WebMessage,
  type WebPoll,
} from './web-message.js';
