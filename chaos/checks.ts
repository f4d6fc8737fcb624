import type { FakeCrm } from '../test/fakes/crm.js';
import type { FakeGraphApi, RecordedRequest } from '../test/fakes/graph-api.js';
import {
  allOrders,
  messengerText,
  messengerTextOf,
  postWebhook,
  recipientOf,
  searchEcho,
  sleep,
  type ListedOrder,
} from '../test/faults/harness.js';
import type { Buyer, Chatter } from './load.js';

/** What the crash scenario found once the load stopped and the server went quiet. */
export interface Outcome {
  /** Search replies expected (one per acknowledged event) and delivered (duplicates included). */
  readonly expectedReplies: number;
  readonly deliveredReplies: number;
  /** Sends that reached a fake twice: search replies, receipts, CRM notifications. */
  readonly duplicates: {
    replies: number;
    receipts: number;
    crm: number;
    total: number;
    /** By the kill that followed each duplicated send's first delivery. */
    perKill: number[];
    bound: number;
    examples: string[];
  };
  readonly orders: { expected: number; found: number; exactlyOnce: number };
  readonly crmNotified: number;
  /** Customers whose next message, after everything, got the one sane answer. */
  readonly probes: { chatters: number; chattersOk: number; buyers: number; buyersOk: number };
  readonly problems: string[];
}

interface CheckInput {
  readonly url: string;
  readonly graph: FakeGraphApi;
  readonly crm: FakeCrm;
  readonly chatters: readonly Chatter[];
  readonly buyers: readonly Buyer[];
  /** When each kill came, ms since the epoch. */
  readonly killedAt: readonly number[];
  readonly maxInFlight: number;
  readonly log: (line: string) => void;
}

/** How late the fakes may stamp a request that arrived before a kill (see `duplicated`). */
const lagMs = 500;

const isReceipt = (request: RecordedRequest) =>
  (request.body as { message?: { attachment?: { payload?: { template_type?: unknown } } } } | undefined)?.message?.attachment?.payload?.template_type === 'receipt';

/** Delivered Send API requests by recipient, in arrival order. */
function deliveredByRecipient(graph: FakeGraphApi): Map<string, RecordedRequest[]> {
  const byRecipient = new Map<string, RecordedRequest[]>();
  for (const request of graph.delivered('messenger')) {
    const psid = recipientOf(request);
    if (psid === undefined) continue;
    const list = byRecipient.get(psid) ?? [];
    list.push(request);
    byRecipient.set(psid, list);
  }
  return byRecipient;
}

/** Waits until `done` holds and the fakes then hear nothing new for `stableMs`. */
async function quiet(input: CheckInput, done: () => boolean, timeoutMs: number, stableMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(200);
  let seen = -1;
  for (;;) {
    const now = input.graph.requests.length + input.crm.requests.length;
    if (now === seen || Date.now() > deadline + stableMs) return done();
    seen = now;
    await sleep(stableMs);
  }
}

/**
 * Once the load stopped: waits for quiet, then checks that every acknowledged event has
 * its reply, in each customer's order; counts duplicates against `kills × maxInFlight`;
 * checks each completed purchase left exactly one order, with a receipt and a CRM
 * notification, and nothing else left an order.
 */
export async function checkOutcome(input: CheckInput): Promise<Outcome> {
  const { chatters, buyers, graph, crm } = input;
  const problems: string[] = [];
  const completed = buyers.filter((buyer) => buyer.completed);
  const expectedReplies = chatters.reduce((sum, chatter) => sum + chatter.acked.filter(Boolean).length, 0);
  const waitStart = performance.now();
  const settled = await quiet(
    input,
    () => {
      const byRecipient = deliveredByRecipient(graph);
      const answered = chatters.every((chatter) => {
        const echoes = new Set((byRecipient.get(chatter.psid) ?? []).map((request) => searchEcho(messengerTextOf(request))));
        return chatter.words.every((word, n) => !chatter.acked[n] || echoes.has(word));
      });
      const receipts = completed.every((buyer) => (byRecipient.get(buyer.psid) ?? []).some(isReceipt));
      return answered && receipts && new Set(crm.requests.map((request) => (request.body as { id?: unknown } | undefined)?.id)).size >= completed.length;
    },
    120_000,
  );
  if (!settled) problems.push('the server did not catch up within 120 s of the load ending');
  input.log(`quiet ${((performance.now() - waitStart) / 1_000).toFixed(1)} s later: ${graph.requests.length} Send API requests, ${crm.requests.length} CRM requests`);

  const failedSends = graph.requests.filter((request) => request.status !== 200);
  if (failedSends.length > 0) problems.push(`${failedSends.length} Send API requests were refused by the fake (e.g. ${JSON.stringify(failedSends[0]?.answer)})`);

  const byRecipient = deliveredByRecipient(graph);
  const examples: string[] = [];
  const perKill = input.killedAt.map(() => 0);
  /**
   * A send that reached a fake twice, charged to the kill it straddles: its first delivery
   * came before that kill (give or take `lagMs`: the fakes run in this busy process and
   * stamp a request when their handler gets to it) and its second after. A restarted
   * server takes far longer than `lagMs` to send anything, so a duplicate of its own
   * making is never taken for one of the kill's.
   */
  const duplicated = (what: string, deliveries: readonly number[]) => {
    const [first, second] = deliveries as [number, number];
    const kill = input.killedAt.findIndex((at) => first <= at + lagMs && second > at);
    if (kill < 0) {
      const before = input.killedAt.filter((at) => at < first).at(-1);
      problems.push(
        `${what}: no kill between its deliveries (${before === undefined ? 'no kill before' : `${first - before} ms and ${second - before} ms after the kill before`})`,
      );
    } else perKill[kill]! += deliveries.length - 1;
    if (examples.length < 10) examples.push(what);
  };
  let deliveredReplies = 0;
  let replyDuplicates = 0;
  for (const chatter of chatters) {
    const replies = byRecipient.get(chatter.psid) ?? [];
    const echoes = replies.map((request) => searchEcho(messengerTextOf(request)) ?? '?');
    deliveredReplies += echoes.length;
    const counts = new Map<string, number>();
    for (const echo of echoes) counts.set(echo, (counts.get(echo) ?? 0) + 1);
    for (const [word, count] of counts) {
      if (!chatter.words.includes(word)) problems.push(`customer ${chatter.psid} got a reply to "${word}", which they never sent`);
      if (count > 1) {
        replyDuplicates += count - 1;
        duplicated(`${chatter.psid} "${word}" × ${count}`, replies.filter((_, i) => echoes[i] === word).map((request) => request.at));
      }
    }
    chatter.words.forEach((word, n) => {
      if (chatter.acked[n] && !counts.has(word)) problems.push(`customer ${chatter.psid}: "${word}" was acknowledged and never answered`);
    });
    // A duplicate can only be the reply in flight at a kill, sent again first after the restart: right behind itself.
    const collapsed = echoes.filter((echo, i) => echo !== echoes[i - 1]);
    const positions = collapsed.map((echo) => chatter.words.indexOf(echo));
    if (positions.some((position, i) => i > 0 && position <= positions[i - 1]!)) {
      problems.push(`customer ${chatter.psid} got replies out of order: ${echoes.join(' ')}`);
    }
  }

  // Orders: exactly one per completed purchase, none from anyone else.
  const orders = await allOrders(input.url);
  const byBuyer = new Map<string, ListedOrder[]>();
  for (const order of orders) {
    const list = byBuyer.get(order.user_chat_id) ?? [];
    list.push(order);
    byBuyer.set(order.user_chat_id, list);
  }
  let exactlyOnce = 0;
  for (const buyer of buyers) {
    const found = byBuyer.get(buyer.psid) ?? [];
    if (found.length === 1) exactlyOnce++;
    if (buyer.completed && found.length !== 1) problems.push(`buyer ${buyer.psid} confirmed (answered 200) and has ${found.length} orders`);
    if (!buyer.completed && found.length > 1) problems.push(`buyer ${buyer.psid} has ${found.length} orders`);
  }
  const strangers = orders.filter((order) => !buyers.some((buyer) => buyer.psid === order.user_chat_id));
  if (strangers.length > 0) problems.push(`${strangers.length} orders belong to no buyer (e.g. ${JSON.stringify(strangers[0])})`);

  // Receipts and CRM notifications: at least once per order, more only as duplicates.
  let receiptDuplicates = 0;
  for (const order of orders) {
    const sent = (byRecipient.get(order.user_chat_id) ?? []).filter(isReceipt);
    const receipts = sent.length;
    if (receipts === 0) problems.push(`order ${order.id} never had its receipt sent`);
    if (receipts > 1) {
      receiptDuplicates += receipts - 1;
      duplicated(`receipt of order ${order.id} × ${receipts}`, sent.map((request) => request.at));
    }
  }
  const notified = new Map<unknown, number[]>();
  for (const request of crm.requests) {
    if (request.status < 200 || request.status >= 300) continue;
    const id = (request.body as { id?: unknown } | undefined)?.id;
    notified.set(id, [...(notified.get(id) ?? []), request.at]);
  }
  let crmDuplicates = 0;
  for (const order of orders) {
    const deliveries = notified.get(order.id) ?? [];
    if (deliveries.length === 0) problems.push(`order ${order.id} was never notified to the CRM`);
    else if (deliveries.length > 1) {
      crmDuplicates += deliveries.length - 1;
      duplicated(`CRM notification of order ${order.id} × ${deliveries.length}`, deliveries);
    }
  }

  const total = replyDuplicates + receiptDuplicates + crmDuplicates;
  const kills = input.killedAt.length;
  const bound = kills * input.maxInFlight;
  if (total > bound) problems.push(`${total} duplicate sends, above the bound of ${kills} kills × ${input.maxInFlight} in flight = ${bound}`);
  perKill.forEach((count, k) => {
    if (count > input.maxInFlight) problems.push(`kill ${k + 1} left ${count} duplicate sends, more than the ${input.maxInFlight} that can be in flight`);
  });
  return {
    expectedReplies,
    deliveredReplies,
    duplicates: { replies: replyDuplicates, receipts: receiptDuplicates, crm: crmDuplicates, total, perKill, bound, examples },
    orders: { expected: completed.length, found: orders.length, exactlyOnce },
    crmNotified: notified.size,
    probes: { chatters: 0, chattersOk: 0, buyers: 0, buyersOk: 0 },
    problems,
  };
}

/**
 * After everything: each customer writes once more. A chatter's search must be answered
 * exactly once; a buyer asking for "orders" must see their order in the answer. A
 * conversation left broken by a crash would answer otherwise, or not at all.
 */
export async function probeConversations(input: {
  url: string;
  graph: FakeGraphApi;
  chatters: readonly Chatter[];
  buyers: readonly Buyer[];
  outcome: Outcome;
  runId: string;
}): Promise<void> {
  const { graph, outcome } = input;
  const orders = await allOrders(input.url);
  const since = graph.requests.length;
  const finalWord = (c: number) => `zq${c}fin`;
  const posts = [
    ...input.chatters.map((chatter, c) => () => postWebhook(input.url, 'messenger', messengerText(chatter.psid, `search ${finalWord(c)}`, `${input.runId}-probe-c${c}`))),
    ...input.buyers.map((buyer, b) => () => postWebhook(input.url, 'messenger', messengerText(buyer.psid, 'orders', `${input.runId}-probe-b${b}`))),
  ];
  for (let i = 0; i < posts.length; i += 50) {
    const answers = await Promise.all(posts.slice(i, i + 50).map((post) => post()));
    const refused = answers.filter((answer) => answer.status !== 200);
    if (refused.length > 0) outcome.problems.push(`${refused.length} probe webhooks were answered ${refused[0]?.status}`);
  }
  const later = () => graph.requests.slice(since).filter((request) => request.status === 200);
  const deadline = Date.now() + 30_000;
  while (later().length < posts.length && Date.now() < deadline) await sleep(200);
  await sleep(1_000);

  const replies = later();
  input.chatters.forEach((chatter, c) => {
    const mine = replies.filter((request) => recipientOf(request) === chatter.psid);
    const ok = mine.length === 1 && searchEcho(messengerTextOf(mine[0]!)) === finalWord(c);
    if (ok) outcome.probes.chattersOk++;
    else if (outcome.problems.length < 100) outcome.problems.push(`chatter ${chatter.psid} answered ${JSON.stringify(mine.map(messengerTextOf))} to a last search`);
  });
  for (const buyer of input.buyers) {
    const order = orders.find((candidate) => candidate.user_chat_id === buyer.psid);
    const mine = replies.filter((request) => recipientOf(request) === buyer.psid);
    const ok = mine.length === 1 && (order === undefined ? !buyer.completed : (messengerTextOf(mine[0]!) ?? '').includes(`#${order.id}:`));
    if (ok) outcome.probes.buyersOk++;
    else outcome.problems.push(`buyer ${buyer.psid} (order ${order?.id ?? 'none'}) answered ${JSON.stringify(mine.map(messengerTextOf))} to "orders"`);
  }
  outcome.probes.chatters = input.chatters.length;
  outcome.probes.buyers = input.buyers.length;
}
