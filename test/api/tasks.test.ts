import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, data, startShop, WebCustomer, type Logged, type Shop } from './harness.js';

/** Scheduled commands through the merchant API, on the real server and its SQLite file. */

interface TaskView {
  status: number;
  status_text: string;
  done_at: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scheduled tasks', () => {
  let shop: Shop;
  let customer: WebCustomer;
  let userId: number;
  /** What the shop answers the command `menu` typed by the customer. */
  let menuReply: Logged['message'][];

  beforeAll(async () => {
    shop = await startShop();
    customer = await WebCustomer.open(shop.url);
    await customer.say('hi');
    ({ user_id: userId } = await data<{ user_id: number }>(shop.url, 'findCustomer', { channel: 'web', external_id: customer.user }));
    menuReply = (await customer.say('menu')).map((entry) => entry.message);
    expect(menuReply.length).toBeGreaterThan(0);
  });
  afterAll(() => shop?.close());

  const addTask = (timestamp: number, command = 'menu') => data<{ id: number }>(shop.url, 'addTask', { user_id: userId, command, timestamp });

  it('runs a task two seconds ahead once, on time, after a restart of the server in between', async () => {
    const due = Math.ceil(Date.now() / 1_000) + 2;
    const { id } = await addTask(due);
    expect(await data<TaskView>(shop.url, 'getTask', { id })).toEqual({ status: 0, status_text: 'waiting', done_at: 0 });

    await shop.close(true);
    shop = await startShop(shop.env, {}, shop.dir);
    const restartedAt = Date.now();
    expect(restartedAt).toBeLessThan(due * 1_000);
    customer = new WebCustomer(shop.url, customer.user);
    await pause(due * 1_000 + 1_500 - Date.now());

    const ran = (await customer.next(0)).filter((entry) => entry.at >= restartedAt);
    expect(ran.map((entry) => entry.message)).toEqual(menuReply);
    for (const entry of ran) {
      expect(entry.at).toBeGreaterThanOrEqual(due * 1_000);
      expect(entry.at).toBeLessThan(due * 1_000 + 1_000);
    }
    const done = await data<TaskView>(shop.url, 'getTask', { id });
    expect(done).toMatchObject({ status: 1, status_text: 'done' });
    expect(done.done_at - due).toBeGreaterThanOrEqual(0);
    expect(done.done_at - due).toBeLessThanOrEqual(1);
    // Once: nothing more comes.
    await pause(1_500);
    expect(await customer.next(0)).toEqual([]);
  });

  it('does not run a task removed before its time, and refuses to remove it twice', async () => {
    const { id } = await addTask(Math.ceil(Date.now() / 1_000) + 2);
    const removed = await call<TaskView>(shop.url, 'removeTask', { id });
    expect(removed).toMatchObject({ status: 200, body: { status: 'success', data: { status: 2, status_text: 'removed', done_at: 0 } } });
    await pause(3_000);
    expect(await customer.next(0)).toEqual([]);
    expect(await data<TaskView>(shop.url, 'getTask', { id })).toEqual({ status: 2, status_text: 'removed', done_at: 0 });
    expect(await call(shop.url, 'removeTask', { id })).toMatchObject({ status: 409, body: { status: 'fail', message: `task ${id} was removed` } });
  });

  it('refuses to remove a task that already ran', async () => {
    const { id } = await addTask(Math.floor(Date.now() / 1_000) - 1);
    expect((await customer.next(1)).map((entry) => entry.message)).toEqual(menuReply);
    expect(await data<TaskView>(shop.url, 'getTask', { id })).toMatchObject({ status: 1, status_text: 'done' });
    expect(await call(shop.url, 'removeTask', { id })).toMatchObject({ status: 409, body: { message: `task ${id} already ran` } });
    expect((await data<TaskView>(shop.url, 'getTask', { id })).status).toBe(1);
  });

  it('answers 404 for an unknown customer or task, and 400 naming a bad timestamp', async () => {
    expect(await call(shop.url, 'addTask', { user_id: 987_654, command: 'menu', timestamp: 1 })).toMatchObject({ status: 404, body: { message: 'customer 987654 not found' } });
    expect((await call(shop.url, 'getTask', { id: 987_654 })).status).toBe(404);
    expect((await call(shop.url, 'removeTask', { id: 987_654 })).status).toBe(404);
    expect((await call(shop.url, 'addTask', { user_id: userId, command: 'menu', timestamp: 'tomorrow' })).body).toEqual({
      status: 'fail',
      message: 'timestamp: must be a Unix time in seconds',
    });
    expect((await call(shop.url, 'addTask', { user_id: userId, command: '', timestamp: 1 })).body).toEqual({ status: 'fail', message: 'command: must not be empty' });
    expect((await call(shop.url, 'addTask', { user_id: userId, timestamp: 1 })).body).toEqual({ status: 'fail', message: 'command: required' });
  });

  it('creates nothing for a call without a valid token, or with malformed JSON', async () => {
    const later = Math.floor(Date.now() / 1_000) + 3_600;
    const first = await addTask(later);
    const body = { user_id: userId, command: 'menu', timestamp: 1 };
    expect((await call(shop.url, 'addTask', body, { token: 'wrong' })).status).toBe(401);
    expect((await call(shop.url, 'addTask', body, { token: null })).status).toBe(401);
    expect((await call(shop.url, 'addTask', undefined, { raw: '{"user_id":' })).status).toBe(400);
    await pause(800);
    expect(await customer.next(0)).toEqual([]);
    // No task was stored in between: the next one takes the next id.
    const second = await addTask(later);
    expect(second.id).toBe(first.id + 1);
    for (const { id } of [first, second]) expect((await call(shop.url, 'removeTask', { id })).status).toBe(200);
  });
});
