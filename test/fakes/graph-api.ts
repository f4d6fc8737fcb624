import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of Meta's Graph API on loopback, for the Messenger Send API
 * (`POST /{version}/me/messages`, or `/{page-id}/messages`) and the WhatsApp Cloud API
 * (`POST /{version}/{phone-number-id}/messages`). It checks tokens and the documented
 * limits the way the real API does (error 100 for an invalid parameter, 190 for a refused
 * token), answers like it, records every request, and can be told to fail.
 */

export type GraphApiKind = 'messenger' | 'whatsapp' | 'unknown';

export interface RecordedRequest {
  readonly method: string;
  /** The path without the query string, e.g. `/v21.0/me/messages`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  readonly body: unknown;
  /** When it arrived, ms since the epoch. */
  readonly at: number;
  readonly kind: GraphApiKind;
  /** What the fake answered. */
  readonly status: number;
  readonly answer: unknown;
}

/**
 * How the fake misbehaves for a request. With a `code` or a `status` it answers a Graph
 * error; with only `delayMs` it answers normally, late.
 */
export interface Failure {
  readonly status?: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly message?: string;
  /** Sends `Retry-After: <seconds>`. */
  readonly retryAfterSeconds?: number;
  /** Sends `X-Business-Use-Case-Usage` with this `estimated_time_to_regain_access` (minutes). */
  readonly regainMinutes?: number;
  /** Answers after this long. */
  readonly delayMs?: number;
  /** A raw body instead of the Graph error JSON (a proxy's HTML page). */
  readonly rawBody?: string;
}

export interface FailureRule extends Failure {
  /** How many requests it applies to; 1 by default, `Infinity` for all. */
  readonly times?: number;
  /** Which requests it applies to; all by default. */
  readonly when?: (request: { kind: GraphApiKind; path: string; body: unknown }) => boolean;
}

/** Failures as the real API gives them (channels.md B.7, C.8). */
export const graphFailures = {
  rateLimited: (retryAfterSeconds = 2): Failure => ({ status: 429, code: 4, message: '(#4) Application request limit reached', retryAfterSeconds }),
  whatsappThroughput: (): Failure => ({ status: 400, code: 130429, message: '(#130429) Rate limit hit' }),
  serverError: (): Failure => ({ status: 500, code: 2, message: 'An unexpected error has occurred. Please retry your request later.' }),
  badGateway: (): Failure => ({ status: 502, rawBody: '<html><body>502 Bad Gateway</body></html>' }),
  userUnavailable: (): Failure => ({ status: 400, code: 551, subcode: 1545041, message: "(#551) This person isn't available right now." }),
  noMatchingUser: (): Failure => ({ status: 400, code: 100, subcode: 2018001, message: '(#100) No matching user found' }),
  outsideWindow: (): Failure => ({ status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' }),
  undeliverable: (): Failure => ({ status: 400, code: 131026, message: '(#131026) Message undeliverable' }),
  reengagement: (): Failure => ({ status: 400, code: 131047, message: '(#131047) Re-engagement message' }),
  unsupportedType: (): Failure => ({ status: 400, code: 131051, message: '(#131051) Message type unknown' }),
  invalidToken: (): Failure => ({ status: 401, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }),
  slow: (delayMs: number): Failure => ({ delayMs }),
} as const;

export interface FakeGraphApiOptions {
  /** The version path segment; `v21.0` by default. */
  readonly version?: string;
  /** When set, Messenger requests with another token get error 190. */
  readonly pageToken?: string;
  /** When set, WhatsApp requests with another Bearer token get error 190. */
  readonly whatsappToken?: string;
}

export interface FakeGraphApi {
  /** The base URL with the version, as `GRAPH_API_URL` takes it. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** The requests that were answered 2xx, of one API. */
  delivered(kind?: GraphApiKind): RecordedRequest[];
  fail(rule: FailureRule): void;
  /** Forgets the requests and the rules. */
  reset(): void;
  /** Resolves with the first `count` requests matching `match`, waiting up to `timeoutMs`. */
  waitFor(match: (request: RecordedRequest) => boolean, count?: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const messagingTypes = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG', 'UTILITY']);
const deprecatedTags = new Set(['POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE']);

/**
 * Starts the fake on 127.0.0.1, port 0.
 * @example
 * const graph = await startFakeGraphApi({ pageToken: 'page-token' });
 * graph.fail({ ...graphFailures.serverError(), times: 2 });
 * // GRAPH_API_URL=graph.url
 */
export async function startFakeGraphApi(options: FakeGraphApiOptions = {}): Promise<FakeGraphApi> {
  const version = options.version ?? 'v21.0';
  const requests: RecordedRequest[] = [];
  let rules: { rule: FailureRule; left: number }[] = [];
  let listeners: (() => void)[] = [];
  let counter = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const kind = kindOf(url.pathname, body, version);
    const rule = rules.find((entry) => entry.left > 0 && (entry.rule.when?.({ kind, path: url.pathname, body }) ?? true));
    if (rule) rule.left--;
    if (rule?.rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.rule.delayMs));
    const failing = rule && (rule.rule.code !== undefined || rule.rule.status !== undefined) ? rule.rule : undefined;
    const answer = failing ? failure(failing) : normal(kind, url, req.headers, body);
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      at,
      kind,
      status: answer.status,
      answer: answer.body,
    });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/html' : 'application/json', ...answer.headers });
    res.end(text);
    const waiting = listeners;
    listeners = [];
    for (const wake of waiting) wake();
  };

  const normal = (kind: GraphApiKind, url: URL, headers: IncomingHttpHeaders, body: unknown): Answer => {
    if (kind === 'unknown') return graphError(400, 2500, 'Unknown path components');
    if (kind === 'messenger') {
      const token = url.searchParams.get('access_token') ?? bearer(headers);
      if (options.pageToken !== undefined && token !== options.pageToken) return invalidToken();
      const problem = messengerProblem(body);
      if (problem) return graphError(400, 100, `(#100) ${problem}`);
      const recipient = (body as { recipient: { id: string } }).recipient.id;
      return { status: 200, body: { recipient_id: recipient, message_id: `m_${++counter}_${randomBytes(12).toString('base64url')}` } };
    }
    if (options.whatsappToken !== undefined && bearer(headers) !== options.whatsappToken) return invalidToken();
    const problem = whatsappProblem(body);
    if (problem) return graphError(400, 100, `(#100) ${problem}`);
    const to = (body as { to?: string; recipient?: string }).to ?? (body as { recipient: string }).recipient;
    const id = `wamid.${Buffer.from(`${to}:${++counter}:${randomBytes(6).toString('hex')}`).toString('base64')}`;
    return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id }] } };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/${version}`,
    get requests() {
      return requests;
    },
    delivered: (kind) => requests.filter((request) => request.status < 300 && (kind === undefined || request.kind === kind)),
    fail(rule) {
      rules.push({ rule, left: rule.times ?? 1 });
    },
    reset() {
      requests.length = 0;
      rules = [];
    },
    async waitFor(match, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.filter(match);
        if (found.length >= count) return found.slice(0, count);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`the fake Graph API saw ${found.length} of ${count} expected requests`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          listeners.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function kindOf(path: string, body: unknown, version: string): GraphApiKind {
  const parts = path.split('/').filter(Boolean);
  if (parts.length !== 3 || parts[0] !== version || parts[2] !== 'messages') return 'unknown';
  if (parts[1] === 'me') return 'messenger';
  // `/{page-id}/messages` and `/{phone-number-id}/messages` share a shape: the body tells them apart.
  return isObject(body) && 'messaging_product' in body ? 'whatsapp' : 'messenger';
}

function failure(rule: Failure): Answer {
  const headers: Record<string, string> = {};
  if (rule.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.retryAfterSeconds);
  if (rule.regainMinutes !== undefined) {
    headers['x-business-use-case-usage'] = JSON.stringify({
      '106540352242922': [{ type: 'messenger', call_count: 100, total_cputime: 10, total_time: 10, estimated_time_to_regain_access: rule.regainMinutes }],
    });
  }
  if (rule.rawBody !== undefined) return { status: rule.status ?? 500, body: rule.rawBody, headers };
  const answer = graphError(rule.status ?? 400, rule.code ?? 1, rule.message ?? 'An unknown error occurred', rule.subcode);
  return { ...answer, headers };
}

function graphError(status: number, code: number, message: string, subcode?: number): Answer {
  const error = { message, type: 'OAuthException', code, ...(subcode === undefined ? {} : { error_subcode: subcode }), fbtrace_id: randomBytes(8).toString('base64url') };
  return { status, body: { error } };
}

function invalidToken(): Answer {
  return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}

/** What the Send API would refuse in a request body, or undefined (channels.md B.5, B.6). */
function messengerProblem(body: unknown): string | undefined {
  if (!isObject(body)) return 'The request body must be JSON';
  const recipient = body['recipient'];
  if (!isObject(recipient) || typeof recipient['id'] !== 'string') return 'The parameter recipient is required';
  const type = body['messaging_type'];
  if (typeof type !== 'string' || !messagingTypes.has(type)) return 'Param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG, UTILITY';
  if (type === 'MESSAGE_TAG' && (typeof body['tag'] !== 'string' || deprecatedTags.has(body['tag']))) return 'The message tag is deprecated or missing';
  if (type === 'UTILITY') {
    const template = body['template'];
    return isObject(template) && typeof template['name'] === 'string' && isObject(template['language']) ? undefined : 'A utility message needs a template';
  }
  const message = body['message'];
  if (!isObject(message)) return 'The parameter message is required';
  const quick = message['quick_replies'];
  if (quick !== undefined) {
    if (!Array.isArray(quick) || quick.length > 13) return 'param message[quick_replies] must have at most 13 elements';
    for (const reply of quick) {
      if (!isObject(reply) || !short(reply['title'], 20) || !short(reply['payload'], 1000)) return 'Invalid quick reply title or payload';
    }
  }
  if ('text' in message) return short(message['text'], 2000) ? undefined : 'Length of param message[text] must be less than or equal to 2000';
  const attachment = message['attachment'];
  if (!isObject(attachment) || !isObject(attachment['payload'])) return 'Either message[text] or message[attachment] must be set';
  const payload = attachment['payload'];
  switch (payload['template_type']) {
    case 'button':
      return short(payload['text'], 640) && buttonsOk(payload['buttons'], 1) ? undefined : 'Invalid button template';
    case 'generic': {
      const elements = payload['elements'];
      if (!Array.isArray(elements) || elements.length < 1 || elements.length > 10) return 'param elements must have 1 to 10 elements';
      const ok = elements.every(
        (element) => isObject(element) && short(element['title'], 80) && (element['subtitle'] === undefined || short(element['subtitle'], 80)) && buttonsOk(element['buttons'] ?? [], 0),
      );
      return ok ? undefined : 'Invalid generic template element';
    }
    case 'receipt': {
      for (const field of ['recipient_name', 'order_number', 'currency', 'payment_method']) {
        if (typeof payload[field] !== 'string') return `param ${field} is required`;
      }
      const summary = payload['summary'];
      if (!isObject(summary) || typeof summary['total_cost'] !== 'number') return 'param summary[total_cost] is required';
      const elements = payload['elements'];
      if (elements !== undefined && (!Array.isArray(elements) || elements.length > 100)) return 'param elements must have at most 100 elements';
      return undefined;
    }
    default:
      return 'Unsupported template_type';
  }
}

function buttonsOk(buttons: unknown, min: number): boolean {
  if (!Array.isArray(buttons) || buttons.length < min || buttons.length > 3) return false;
  return buttons.every(
    (button) =>
      isObject(button) &&
      short(button['title'], 20) &&
      ((button['type'] === 'postback' && short(button['payload'], 1000)) || (button['type'] === 'web_url' && typeof button['url'] === 'string')),
  );
}

/** What the Cloud API would refuse in a request body, or undefined (channels.md C.6). */
function whatsappProblem(body: unknown): string | undefined {
  if (!isObject(body) || body['messaging_product'] !== 'whatsapp') return 'The parameter messaging_product is required';
  if (typeof body['to'] !== 'string' && typeof body['recipient'] !== 'string') return 'The parameter to is required';
  const type = body['type'];
  const content = typeof type === 'string' ? body[type] : undefined;
  if (!isObject(content)) return `The parameter ${String(type)} is required`;
  switch (type) {
    case 'text':
      return short(content['body'], 4096) ? undefined : 'Param text[body] must be at most 4096 characters';
    case 'image':
      return typeof content['link'] === 'string' && (content['caption'] === undefined || short(content['caption'], 1024)) ? undefined : 'Invalid image';
    case 'template':
      return typeof content['name'] === 'string' && isObject(content['language']) ? undefined : 'Invalid template';
    case 'interactive':
      return interactiveProblem(content);
    default:
      return `Unsupported message type ${String(type)}`;
  }
}

function interactiveProblem(interactive: Record<string, unknown>): string | undefined {
  const body = interactive['body'];
  const action = interactive['action'];
  if (!isObject(action)) return 'Param interactive[action] is required';
  const bodyText = isObject(body) ? body['text'] : undefined;
  switch (interactive['type']) {
    case 'button': {
      const buttons = action['buttons'];
      if (!short(bodyText, 1024)) return 'Param interactive[body][text] must be at most 1024 characters';
      if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return 'Param interactive[action][buttons] must have 1 to 3 buttons';
      const titles = buttons.map((button) => (isObject(button) && isObject(button['reply']) ? button['reply']['title'] : undefined));
      if (!titles.every((title) => short(title, 20))) return 'Button title length invalid. Should be 20 characters or fewer';
      return new Set(titles).size === titles.length ? undefined : 'Button titles must be unique';
    }
    case 'list': {
      const sections = action['sections'];
      if (!short(bodyText, 4096) || !short(action['button'], 20)) return 'Invalid list body or button';
      if (!Array.isArray(sections) || sections.length < 1 || sections.length > 10) return 'Param sections must have 1 to 10 sections';
      const rows = sections.flatMap((section) => (isObject(section) && Array.isArray(section['rows']) ? section['rows'] : []));
      if (rows.length < 1 || rows.length > 10) return 'Total row count exceed max allowed count: 10';
      return rows.every((row) => isObject(row) && short(row['title'], 24) && short(row['id'], 200)) ? undefined : 'Row title length invalid. Should be 24 characters or fewer';
    }
    case 'product':
      return typeof action['catalog_id'] === 'string' && typeof action['product_retailer_id'] === 'string' ? undefined : 'Invalid product message';
    case 'product_list': {
      const header = interactive['header'];
      if (!isObject(header) || !short(header['text'], 60) || !short(bodyText, 1024)) return 'A product list needs a text header (≤ 60) and a body';
      const sections = action['sections'];
      if (typeof action['catalog_id'] !== 'string' || !Array.isArray(sections) || sections.length < 1 || sections.length > 10) return 'Invalid product list sections';
      const items = sections.flatMap((section) => (isObject(section) && Array.isArray(section['product_items']) ? section['product_items'] : []));
      if (items.length < 1 || items.length > 30) return 'A product list holds 1 to 30 products';
      return sections.every((section) => isObject(section) && (sections.length === 1 || short(section['title'], 24))) ? undefined : 'Invalid section title';
    }
    case 'cta_url': {
      const parameters = action['parameters'];
      return short(bodyText, 1024) && isObject(parameters) && short(parameters['display_text'], 20) && typeof parameters['url'] === 'string'
        ? undefined
        : 'Invalid cta_url message';
    }
    default:
      return `Unsupported interactive type ${String(interactive['type'])}`;
  }
}

function short(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
