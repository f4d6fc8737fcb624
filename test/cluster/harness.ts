import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { exited, repo, startChildServer, type ChildServer } from '../child-server.js';
import type { RecordedRequest } from '../fakes/graph-api.js';

/**
 * Runs real `orderly start` processes against one PostgreSQL schema, and speaks to them as
 * Messenger would (signed webhooks). The database is `TEST_DATABASE_URL`; every cluster gets
 * a schema of its own (`DATABASE_SCHEMA`), dropped by `dropSchema`.
 */

export const databaseUrl = process.env['TEST_DATABASE_URL'];
export const appSecret = 'cluster_app_secret';
export const pageToken = 'cluster-page-token';
export const page = '106540352242922';

export type Instance = ChildServer;

export function freshSchema(): string {
  return `orderly_test_${randomBytes(6).toString('hex')}`;
}

/** Starts `orderly start` on the schema; resolves once it logged "listening". */
export function startInstance(schema: string, graphUrl: string, env: Record<string, string> = {}): Promise<Instance> {
  return startChildServer({
    DATABASE_URL: databaseUrl!,
    DATABASE_SCHEMA: schema,
    META_APP_SECRET: appSecret,
    META_VERIFY_TOKEN: 'cluster-verify',
    GRAPH_API_URL: graphUrl,
    MESSENGER_PAGE_TOKEN: pageToken,
    ...env,
  });
}

export { exited };

const postbackFixture = readFileSync(new URL('../fixtures/messenger/postback.json', import.meta.url), 'utf8');

/** A Messenger postback webhook from `psid` with its own mid. */
export function postback(psid: string, payload: string, mid: string): string {
  const body = JSON.parse(postbackFixture) as {
    entry: { time: number; messaging: { sender: { id: string }; timestamp: number; postback: { title: string; payload: string; mid: string } }[] }[];
  };
  const entry = body.entry[0]!;
  const event = entry.messaging[0]!;
  entry.time = Date.now();
  event.timestamp = Date.now();
  event.sender.id = psid;
  event.postback = { title: 'Show', payload, mid };
  return JSON.stringify(body);
}

/** POSTs a signed webhook; answers the HTTP status, or 0 when the instance could not be reached. */
export async function deliver(url: string, raw: string): Promise<number> {
  try {
    const response = await fetch(`${url}/webhooks/messenger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}` },
      body: raw,
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** The products of the demo catalog: each event of a customer asks for another one's card. */
export const products = (
  JSON.parse(readFileSync(resolve(repo, 'data/demo-catalog.json'), 'utf8')) as { id: string; title: string }[]
).map(({ id, title }) => ({ id, title }));

/** The product whose card a Send API request carries (by its title), or undefined. */
export function productOf(request: RecordedRequest): string | undefined {
  const body = JSON.stringify(request.body);
  return products.find((product) => body.includes(JSON.stringify(product.title).slice(1, -1)))?.id;
}

export const recipientOf = (request: RecordedRequest) => (request.body as { recipient?: { id?: string } }).recipient?.id;

/** Runs SQL in the cluster's schema. */
export async function inSchema<T extends pg.QueryResultRow>(schema: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET search_path = "${schema}"`);
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Waits until `check` holds, polling. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
