import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EngineError } from '../core/errors.js';

/** Where the store lives, as `DATABASE_URL` says. */
export type DatabaseConfig =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      /** `DATABASE_SYNCHRONOUS`: `full` syncs every commit to disk; unset means the store's default (`normal`). */
      readonly synchronous?: 'normal' | 'full';
    }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      /** `DATABASE_POOL_SIZE`, `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_SCHEMA`: unset means the store's defaults. */
      readonly poolSize?: number;
      readonly statementTimeoutMs?: number;
      readonly schema?: string;
    }
  | { readonly kind: 'memory' };

/** pino's levels, and `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Approved utility templates for news sent after a platform's 24-hour window closed. */
export interface Templates {
  readonly receipt?: string;
  readonly shippingUpdate?: string;
  readonly language: string;
}

/** The server's configuration: the external contract's environment variables, parsed and checked. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseConfig;
  /** An absolute path to a `.json` or `.csv` catalog. */
  readonly catalogFile: string;
  /** Tokens the merchant API accepts; empty: the API answers 401. */
  readonly merchantTokens: readonly string[];
  readonly logLevel: LogLevel;
  /** The shop's account name in the web channel's addresses. */
  readonly webAccount: string;
  readonly meta: { readonly appSecret?: string; readonly verifyToken?: string; readonly graphApiUrl: string };
  readonly messenger: { readonly pageToken?: string; readonly templates: Templates };
  readonly whatsapp: {
    readonly token?: string;
    readonly phoneNumberId?: string;
    readonly catalogId?: string;
    readonly templates: Templates;
  };
  readonly telegram: {
    readonly botToken?: string;
    readonly mode: 'webhook' | 'polling';
    readonly webhookSecret?: string;
    /** The public URL of `/webhooks/telegram`, registered with `setWebhook` at start. */
    readonly webhookUrl?: string;
    readonly apiRoot: string;
    readonly paymentToken?: string;
    /** Messages a second the bot sends at most, over all chats (Telegram allows 30). */
    readonly maxPerSecond: number;
  };
  readonly crm: {
    readonly url?: string;
    readonly method: 'POST' | 'GET';
    readonly secret?: string;
    /** Delivery attempts of one new-order notification before it is given up as dead. */
    readonly maxAttempts: number;
    /** How long one CRM request may take, in milliseconds. */
    readonly timeoutMs: number;
  };
  /** The merchant API's limit: requests per minute per token. */
  readonly api: { readonly rateLimit: number };
  /** Retries of failed sends (replies, CRM notifications): first delay, doubled each attempt, capped. */
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  /** Several instances on PostgreSQL: how long an instance's leases outlive it (`LEASE_TIMEOUT_MS`). */
  readonly leaseTimeoutMs: number;
  /** Days of history kept (`RETENTION_DAYS`): 0 keeps everything. */
  readonly retentionDays: number;
}

/**
 * A configuration value is missing or wrong. The message is one line that names the
 * variable and says what is wrong; it never holds a secret's value.
 */
export class ConfigError extends EngineError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super('CONFIG', message);
  }
}

/** Variables whose values are never echoed (DATABASE_URL may carry a password). */
const secretVariables = new Set([
  'DATABASE_URL',
  'MERCHANT_TOKEN',
  'META_APP_SECRET',
  'META_VERIFY_TOKEN',
  'MESSENGER_PAGE_TOKEN',
  'WHATSAPP_TOKEN',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'TELEGRAM_PAYMENT_TOKEN',
  'CRM_SECRET',
]);

/** An unset or empty variable is absent (`FOO=` in a compose file means "not set"). */
const blankToUndefined = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((value) => blankToUndefined(value) ?? fallback, schema);

const secret = optional(z.string().regex(/^\S+$/, { error: 'must not contain spaces' }));

const httpUrl = (what: string) =>
  z
    .string()
    .refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), { error: `must be an http(s) URL ${what}` })
    .transform((value) => value.replace(/\/+$/, ''));

const databaseUrl = z.string().transform((value, ctx): DatabaseConfig => {
  if (value === 'memory:' || value === 'memory') return { kind: 'memory' };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/|\.|[A-Za-z]:)/, '');
    if (path.length > 0) return { kind: 'sqlite', path };
    ctx.addIssue({ code: 'custom', message: 'needs a file path after "sqlite:" (e.g. sqlite:./data/orderly.db)' });
    return z.NEVER;
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    if (URL.canParse(value)) return { kind: 'postgres', url: value };
    ctx.addIssue({ code: 'custom', message: 'is not a valid postgres:// URL' });
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: 'must be sqlite:<path>, postgres://… or memory:' });
  return z.NEVER;
});

/** A whole number from `min` to `max`, written in decimal digits. */
/** Below this, a redelivered webhook could find its event deleted and be taken as new. */
const minRetentionDays = 7;

const integer = (min: number, max: number, what = '') =>
  z
    .string()
    .regex(/^\d{1,10}$/, { error: `must be an integer from ${min} to ${max}${what}` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, { error: `must be an integer from ${min} to ${max}${what}` });

const templateName = z.string().regex(/^[a-z0-9_]{1,512}$/, { error: 'must be a template name (lowercase letters, digits and _)' });

const envSchema = z
  .object({
    PORT: withDefault(
      z
        .string()
        .regex(/^\d{1,5}$/, { error: 'must be an integer from 0 to 65535' })
        .transform(Number)
        .refine((port) => port <= 65_535, { error: 'must be an integer from 0 to 65535' }),
      '3000',
    ),
    HOST: withDefault(z.string().regex(/^\S+$/, { error: 'must be a host name or address' }), '0.0.0.0'),
    DATABASE_URL: withDefault(databaseUrl, 'sqlite:./data/orderly.db'),
    DATABASE_POOL_SIZE: optional(integer(1, 1_000, ' (connections)')),
    DATABASE_STATEMENT_TIMEOUT_MS: optional(integer(100, 600_000, ' (milliseconds)')),
    DATABASE_SYNCHRONOUS: optional(z.enum(['normal', 'full'], { error: 'must be normal or full' })),
    DATABASE_SCHEMA: optional(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: 'must be a schema name (letters, digits and _)' })),
    LEASE_TIMEOUT_MS: withDefault(integer(500, 3_600_000, ' (milliseconds)'), '15000'),
    RETENTION_DAYS: withDefault(integer(0, 36_500, ' (days; 0 keeps everything)'), '0'),
    CATALOG_FILE: optional(
      z.string().regex(/\.(json|csv)$/i, { error: 'must name a .json or .csv file' }),
    ),
    MERCHANT_TOKEN: optional(
      z
        .string()
        .transform((value) => value.split(',').map((token) => token.trim()).filter((token) => token.length > 0))
        .refine((tokens) => tokens.length > 0, { error: 'holds no token (a comma-separated list)' })
        .refine((tokens) => tokens.every((token) => /^\S+$/.test(token)), { error: 'a token must not contain spaces' }),
    ),
    META_APP_SECRET: secret,
    META_VERIFY_TOKEN: secret,
    GRAPH_API_URL: withDefault(httpUrl('with the version, e.g. https://graph.facebook.com/v21.0'), 'https://graph.facebook.com/v21.0'),
    MESSENGER_PAGE_TOKEN: secret,
    WHATSAPP_TOKEN: secret,
    WHATSAPP_PHONE_NUMBER_ID: optional(z.string().regex(/^\d+$/, { error: 'must be the numeric phone number id' })),
    WHATSAPP_CATALOG_ID: optional(z.string().regex(/^\d+$/, { error: 'must be the numeric catalog id' })),
    MESSENGER_RECEIPT_TEMPLATE: optional(templateName),
    MESSENGER_SHIPPING_TEMPLATE: optional(templateName),
    WHATSAPP_RECEIPT_TEMPLATE: optional(templateName),
    WHATSAPP_SHIPPING_TEMPLATE: optional(templateName),
    TEMPLATE_LANGUAGE: withDefault(z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, { error: 'must be a language code such as en_US' }), 'en_US'),
    TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^\d+:[\w-]+$/, { error: 'is not a bot token (<digits>:<secret>)' })),
    TELEGRAM_MODE: withDefault(z.enum(['webhook', 'polling'], { error: 'must be webhook or polling' }), 'polling'),
    TELEGRAM_WEBHOOK_SECRET: optional(
      z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, { error: 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -' }),
    ),
    TELEGRAM_WEBHOOK_URL: optional(httpUrl('(the public URL of /webhooks/telegram)')),
    TELEGRAM_API_ROOT: withDefault(httpUrl('(the Bot API root)'), 'https://api.telegram.org'),
    TELEGRAM_PAYMENT_TOKEN: secret,
    TELEGRAM_MAX_PER_SECOND: withDefault(integer(1, 100_000, ' (messages a second over all chats)'), '30'),
    CRM_URL: optional(httpUrl('(the new-order notification target)')),
    CRM_METHOD: withDefault(
      z.preprocess(
        (value) => (typeof value === 'string' ? value.toUpperCase() : value),
        z.enum(['POST', 'GET'], { error: 'must be POST or GET' }),
      ),
      'POST',
    ),
    CRM_SECRET: secret,
    CRM_MAX_ATTEMPTS: withDefault(integer(1, 1_000), '10'),
    CRM_TIMEOUT_MS: withDefault(integer(100, 600_000, ' (milliseconds)'), '10000'),
    API_RATE_LIMIT: withDefault(integer(1, 1_000_000, ' (requests per minute per token)'), '600'),
    RETRY_BASE_MS: withDefault(integer(1, 3_600_000, ' (milliseconds)'), '500'),
    RETRY_MAX_MS: withDefault(integer(1, 86_400_000, ' (milliseconds)'), '300000'),
    LOG_LEVEL: withDefault(
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      }),
      'info',
    ),
    WEB_ACCOUNT: withDefault(
      z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, { error: 'must be 1-128 characters of A-Z, a-z, 0-9, _, . and -' }),
      'web',
    ),
  })
  .superRefine((env, ctx) => {
    if (env.WHATSAPP_TOKEN && !env.WHATSAPP_PHONE_NUMBER_ID) {
      ctx.addIssue({ code: 'custom', path: ['WHATSAPP_PHONE_NUMBER_ID'], message: 'is required when WHATSAPP_TOKEN is set' });
    }
    if (env.RETENTION_DAYS > 0 && env.RETENTION_DAYS < minRetentionDays) {
      const message = `must be 0 (keep everything) or at least ${minRetentionDays}: platforms redeliver a webhook for up to 7 days, and an event is deduplicated only while it is kept`;
      ctx.addIssue({ code: 'custom', path: ['RETENTION_DAYS'], message });
    }
    if (env.RETRY_MAX_MS < env.RETRY_BASE_MS) {
      ctx.addIssue({ code: 'custom', path: ['RETRY_MAX_MS'], message: `must be at least RETRY_BASE_MS (${env.RETRY_BASE_MS})` });
    }
    if (env.DATABASE_SYNCHRONOUS && env.DATABASE_URL.kind !== 'sqlite') {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_SYNCHRONOUS'], message: 'applies to a SQLite file (DATABASE_URL=sqlite:<path>)' });
    }
    if (env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_MODE !== 'webhook') {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_URL'], message: 'needs TELEGRAM_MODE=webhook' });
    }
    if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['TELEGRAM_WEBHOOK_SECRET'],
        message: 'is required when TELEGRAM_WEBHOOK_URL is set: without it anyone could post updates to the webhook',
      });
    }
    if (env.WHATSAPP_PHONE_NUMBER_ID && !env.WHATSAPP_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['WHATSAPP_TOKEN'], message: 'is required when WHATSAPP_PHONE_NUMBER_ID is set' });
    }
  });

/**
 * Parses the environment into a `Config`, or throws a `ConfigError` naming the first bad
 * variable. Relative paths (the sqlite file, `CATALOG_FILE`) are resolved against `cwd`.
 * @example
 * const config = loadConfig({ PORT: '0', DATABASE_URL: 'memory:' });
 * config.database // { kind: 'memory' }
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, `${variable} ${issue?.message ?? 'is invalid'}${shown(variable, env[variable])}`);
  }
  const e = parsed.data;
  const catalogFile = e.CATALOG_FILE ? resolve(cwd, e.CATALOG_FILE) : demoCatalogFile();
  if (!existsSync(catalogFile)) {
    throw new ConfigError('CATALOG_FILE', `CATALOG_FILE names a file that does not exist: ${catalogFile}`);
  }
  const database: DatabaseConfig =
    e.DATABASE_URL.kind === 'sqlite' && e.DATABASE_URL.path !== ':memory:'
      ? { kind: 'sqlite', path: resolve(cwd, e.DATABASE_URL.path), ...(e.DATABASE_SYNCHRONOUS ? { synchronous: e.DATABASE_SYNCHRONOUS } : {}) }
      : e.DATABASE_URL.kind === 'postgres'
        ? {
            ...e.DATABASE_URL,
            ...(e.DATABASE_POOL_SIZE === undefined ? {} : { poolSize: e.DATABASE_POOL_SIZE }),
            ...(e.DATABASE_STATEMENT_TIMEOUT_MS === undefined ? {} : { statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS }),
            ...(e.DATABASE_SCHEMA === undefined ? {} : { schema: e.DATABASE_SCHEMA }),
          }
        : e.DATABASE_URL;
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    catalogFile,
    merchantTokens: e.MERCHANT_TOKEN ?? [],
    logLevel: e.LOG_LEVEL,
    webAccount: e.WEB_ACCOUNT,
    meta: { appSecret: e.META_APP_SECRET, verifyToken: e.META_VERIFY_TOKEN, graphApiUrl: e.GRAPH_API_URL },
    messenger: {
      pageToken: e.MESSENGER_PAGE_TOKEN,
      templates: { receipt: e.MESSENGER_RECEIPT_TEMPLATE, shippingUpdate: e.MESSENGER_SHIPPING_TEMPLATE, language: e.TEMPLATE_LANGUAGE },
    },
    whatsapp: {
      token: e.WHATSAPP_TOKEN,
      phoneNumberId: e.WHATSAPP_PHONE_NUMBER_ID,
      catalogId: e.WHATSAPP_CATALOG_ID,
      templates: { receipt: e.WHATSAPP_RECEIPT_TEMPLATE, shippingUpdate: e.WHATSAPP_SHIPPING_TEMPLATE, language: e.TEMPLATE_LANGUAGE },
    },
    telegram: {
      botToken: e.TELEGRAM_BOT_TOKEN,
      mode: e.TELEGRAM_MODE,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
      webhookUrl: e.TELEGRAM_WEBHOOK_URL,
      apiRoot: e.TELEGRAM_API_ROOT,
      paymentToken: e.TELEGRAM_PAYMENT_TOKEN,
      maxPerSecond: e.TELEGRAM_MAX_PER_SECOND,
    },
    crm: { url: e.CRM_URL, method: e.CRM_METHOD, secret: e.CRM_SECRET, maxAttempts: e.CRM_MAX_ATTEMPTS, timeoutMs: e.CRM_TIMEOUT_MS },
    api: { rateLimit: e.API_RATE_LIMIT },
    retry: { baseMs: e.RETRY_BASE_MS, maxMs: e.RETRY_MAX_MS },
    leaseTimeoutMs: e.LEASE_TIMEOUT_MS,
    retentionDays: e.RETENTION_DAYS,
  };
}

/** The value as the error shows it: quoted and cut short, or nothing for a secret. */
function shown(variable: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '' || secretVariables.has(variable)) return '';
  const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return ` (got ${JSON.stringify(cut)})`;
}

let demoCatalog: string | undefined;

/**
 * The demo catalog shipped with the package: `data/demo-catalog.json` next to the nearest
 * `package.json` above this module, so it is found from `src/` and from `dist/` alike.
 */
export function demoCatalogFile(): string {
  if (demoCatalog) return demoCatalog;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  demoCatalog = join(dir, 'data', 'demo-catalog.json');
  return demoCatalog;
}

/**
 * What is switched on, safe to log (no secret): the store kind and the configured channels.
 * @example describeConfig(loadConfig(process.env)) // { database: 'sqlite', channels: ['web'], … }
 */
export function describeConfig(config: Config): Record<string, unknown> {
  const channels = ['web'];
  if (config.messenger.pageToken) channels.push('messenger');
  if (config.whatsapp.token) channels.push('whatsapp');
  if (config.telegram.botToken) channels.push(`telegram (${config.telegram.mode})`);
  return {
    database: config.database.kind,
    catalogFile: config.catalogFile,
    channels,
    merchantApi: config.merchantTokens.length > 0,
    crm: config.crm.url ? config.crm.method : false,
    retentionDays: config.retentionDays > 0 ? config.retentionDays : 'all kept',
  };
}
