import { createMessengerPlugin } from '../channels/messenger/index.js';
import type { ChannelDeps, ChannelPlugin } from '../channels/plugin.js';
import { createTelegramPlugin, defaultThrottle, type PreCheckoutTexts } from '../channels/telegram/index.js';
import { createWhatsAppPlugin } from '../channels/whatsapp/index.js';
import type { TemplateConfig } from '../channels/graph/index.js';
import type { Config, Templates } from './config.js';

/** What the configuration does not say about the channels. */
export interface ChannelPluginOptions {
  /** Telegram's pre-checkout refusals, reworded or translated (English by default). */
  readonly preCheckoutTexts?: PreCheckoutTexts;
}

/**
 * The platform channels the configuration switches on: Messenger with a page token,
 * WhatsApp with its token and phone number id, Telegram with a bot token. The web channel
 * is always on and is not among them.
 * @example
 * const plugins = createChannelPlugins(config, { store, logger });
 * createEngine({ store, flows, services, channels: plugins.map((plugin) => plugin.channel) });
 */
export function createChannelPlugins(config: Config, deps: ChannelDeps, options: ChannelPluginOptions = {}): ChannelPlugin[] {
  const { meta, messenger, whatsapp, telegram } = config;
  const graph = {
    graphApiUrl: meta.graphApiUrl,
    ...(meta.appSecret ? { appSecret: meta.appSecret } : {}),
    ...(meta.verifyToken ? { verifyToken: meta.verifyToken } : {}),
  };
  const plugins: ChannelPlugin[] = [];
  if (messenger.pageToken) {
    plugins.push(createMessengerPlugin({ ...graph, pageToken: messenger.pageToken, templates: defined(messenger.templates) }, deps));
  }
  if (whatsapp.token && whatsapp.phoneNumberId) {
    plugins.push(
      createWhatsAppPlugin(
        {
          ...graph,
          token: whatsapp.token,
          phoneNumberId: whatsapp.phoneNumberId,
          templates: defined(whatsapp.templates),
          ...(whatsapp.catalogId ? { catalogId: whatsapp.catalogId } : {}),
        },
        deps,
      ),
    );
  }
  if (telegram.botToken) {
    plugins.push(
      createTelegramPlugin(
        {
          token: telegram.botToken,
          mode: telegram.mode,
          apiRoot: telegram.apiRoot,
          ...(telegram.webhookSecret ? { webhookSecret: telegram.webhookSecret } : {}),
          ...(telegram.webhookUrl ? { webhookUrl: telegram.webhookUrl } : {}),
          ...(telegram.paymentToken ? { paymentToken: telegram.paymentToken } : {}),
          throttle: { ...defaultThrottle, perSecond: telegram.maxPerSecond },
          ...(options.preCheckoutTexts ? { preCheckoutTexts: options.preCheckoutTexts } : {}),
        },
        deps,
      ),
    );
  }
  return plugins;
}

/** The templates without the names that are not set. */
function defined(templates: Templates): TemplateConfig {
  return {
    language: templates.language,
    ...(templates.receipt ? { receipt: templates.receipt } : {}),
    ...(templates.shippingUpdate ? { shippingUpdate: templates.shippingUpdate } : {}),
  };
}
