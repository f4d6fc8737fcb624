import type { ApiCallFn } from 'grammy';
import { describe, expect, it } from 'vitest';
import { createThrottle, defaultThrottle, type TelegramThrottle, type ThrottleClock } from '../../src/channels/telegram/throttle.js';
import { EngineError } from '../../src/core/errors.js';

type GrammySignal = Parameters<ApiCallFn>[2];

/** A clock that moves only when told to, firing the timers that fall due on the way. */
function fakeClock(): ThrottleClock & { advance(ms: number): void; jump(ms: number): void; armed: number; pending(): number } {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    armed: 0,
    now: () => now,
    setTimeout(callback, ms) {
      this.armed++;
      timers.set(nextId, { at: now + ms, callback });
      return nextId++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    pending: () => timers.size,
    /** Moves time without firing anything, as a timer that runs late. */
    jump: (ms) => void (now += ms),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = end;
    },
  };
}

/** A throttle over a recording `prev`: `sent` lists the texts in the order they went on. */
function throttled(limits: Partial<TelegramThrottle>, sweepAbove?: number) {
  const clock = fakeClock();
  const throttle = createThrottle({ ...defaultThrottle, ...limits }, { clock, ...(sweepAbove ? { sweepAbove } : {}) });
  const sent: string[] = [];
  const answers: Promise<unknown>[] = [];
  const prev = ((method: string, payload: { text?: string } | undefined) => {
    sent.push(payload?.text ?? method);
    const answer = Promise.resolve({ ok: true, result: true });
    answers.push(answer);
    return answer;
  }) as unknown as ApiCallFn;
  const send = (chatId: number | string, text: string, signal?: AbortSignal) =>
    throttle(prev, 'sendMessage', { chat_id: chatId, text }, signal as GrammySignal); // grammY types it as abort-controller's
  return { clock, throttle, sent, answers, prev, send };
}

const unlimited = { perSecond: 1_000_000 };

describe('the Telegram throttle', () => {
  it('lets a chat burst at once, then spaces its calls by its rate', () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 3, perSecond: 10 } });
    for (const text of ['a', 'b', 'c', 'd', 'e']) void send(1, text);
    expect(sent).toEqual(['a', 'b', 'c']);
    clock.advance(99);
    expect(sent).toEqual(['a', 'b', 'c']);
    clock.advance(1);
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
    clock.advance(100);
    expect(sent).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('refills a chat that stayed quiet up to its burst, and no further', () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 2, perSecond: 10 } });
    void send(1, 'a');
    void send(1, 'b');
    clock.advance(10_000);
    for (const text of ['c', 'd', 'e']) void send(1, text);
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds one chat without holding another', () => {
    const { sent, send } = throttled({ ...unlimited, chat: { burst: 1, perSecond: 1 } });
    void send(1, 'first to 1');
    void send(1, 'second to 1');
    void send(2, 'first to 2');
    expect(sent).toEqual(['first to 1', 'first to 2']);
  });

  it('caps all chats together at the global rate, first come first served', () => {
    const { clock, sent, send } = throttled({ perSecond: 10, chat: { burst: 10, perSecond: 10 } });
    for (let chat = 1; chat <= 13; chat++) void send(chat, `to ${chat}`);
    expect(sent).toHaveLength(10);
    clock.advance(100);
    expect(sent.slice(10)).toEqual(['to 11']);
    clock.advance(200);
    expect(sent.slice(10)).toEqual(['to 11', 'to 12', 'to 13']);
  });

  it('never lets a call to another chat overtake one waiting for the global bucket', () => {
    const { clock, sent, send } = throttled({ perSecond: 1 });
    void send(1, 'a');
    void send(2, 'b');
    clock.jump(1_500); // b's token is due at 1 s, the global timer has not fired yet
    void send(3, 'c');
    expect(sent).toEqual(['a']);
    clock.advance(0);
    expect(sent).toEqual(['a', 'b']);
    clock.advance(1_000);
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('keeps a chat in order while it waits for its own bucket and then the global one', () => {
    const { clock, sent, send } = throttled({ perSecond: 2, chat: { burst: 2, perSecond: 4 } });
    for (const text of ['x1', 'a1', 'a2', 'a3', 'a4', 'x2']) void send(text.startsWith('a') ? 1 : 2, text);
    expect(sent).toEqual(['x1', 'a1']);
    clock.advance(5_000);
    expect(sent).toEqual(['x1', 'a1', 'a2', 'x2', 'a3', 'a4']);
  });

  it('never lets a new call overtake one waiting for the same chat, even when its timer runs late', () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 1, perSecond: 10 } });
    void send(1, 'a');
    void send(1, 'b');
    clock.jump(150); // b's token is due at 100 ms, its timer has not fired yet
    void send(1, 'c');
    expect(sent).toEqual(['a']);
    clock.advance(0);
    expect(sent).toEqual(['a', 'b']);
    clock.advance(100);
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('holds a group (negative id or @username) to its own burst and rate per minute', () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 10, perSecond: 10 }, group: { burst: 2, perMinute: 6 } });
    for (const text of ['g1', 'g2', 'g3']) void send(-100123, text);
    void send('-100123', 'g4'); // the same group, its id as a string
    for (const text of ['c1', 'c2', 'c3']) void send('@shopnews', text);
    for (const text of ['p1', 'p2', 'p3']) void send(100123, text);
    expect(sent).toEqual(['g1', 'g2', 'c1', 'c2', 'p1', 'p2', 'p3']);
    clock.advance(9_999);
    expect(sent).toHaveLength(7);
    clock.advance(1);
    expect(sent.slice(7)).toEqual(['g3', 'c3']);
    clock.advance(10_000);
    expect(sent.slice(7)).toEqual(['g3', 'c3', 'g4']);
  });

  it('passes calls without a chat_id straight through, however busy the buckets are', () => {
    const { clock, throttle, sent, answers, prev, send } = throttled({ perSecond: 1 });
    void send(1, 'spends the global bucket');
    void send(2, 'waits');
    const armed = clock.armed;
    const me = throttle(prev, 'getMe', {});
    const answered = throttle(prev, 'answerCallbackQuery', { callback_query_id: '42' });
    const polled = throttle(prev, 'getUpdates', { offset: 7 });
    expect(sent).toEqual(['spends the global bucket', 'getMe', 'answerCallbackQuery', 'getUpdates']);
    expect(me).toBe(answers[1]);
    expect(answered).toBe(answers[2]);
    expect(polled).toBe(answers[3]);
    expect(clock.armed).toBe(armed);
    expect(throttle.chats).toBe(2);
  });

  it('rejects a call aborted while it waits, and lets the next one take its turn', async () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 1, perSecond: 10 } });
    void send(1, 'a');
    const controller = new AbortController();
    const b = send(1, 'b', controller.signal);
    const c = send(1, 'c');
    controller.abort();
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    clock.advance(100);
    expect(sent).toEqual(['a', 'c']);
    await expect(c).resolves.toEqual({ ok: true, result: true });
    expect(clock.pending()).toBe(0);
  });

  it('clears the timer when the only waiter is aborted, and rejects a call already aborted at once', async () => {
    const { clock, sent, send } = throttled({ ...unlimited, chat: { burst: 1, perSecond: 10 } });
    void send(1, 'a');
    const controller = new AbortController();
    const b = send(1, 'b', controller.signal);
    expect(clock.pending()).toBe(1);
    controller.abort(new Error('gave up'));
    await expect(b).rejects.toThrow('gave up');
    expect(clock.pending()).toBe(0);
    await expect(send(1, 'c', controller.signal)).rejects.toThrow('gave up');
    clock.advance(1_000);
    expect(sent).toEqual(['a']);
    void send(1, 'd');
    expect(sent).toEqual(['a', 'd']);
  });

  it('forgets chats whose buckets are full and idle, and keeps the others with their limits', () => {
    const { clock, throttle, sent, send } = throttled({ ...unlimited, chat: { burst: 1, perSecond: 1 } }, 100);
    for (let chat = 1; chat <= 150; chat++) void send(chat, `to ${chat}`);
    void send(1, 'waits');
    expect(throttle.chats).toBe(150); // at 100 chats none was full again yet: all kept
    clock.advance(500);
    for (let chat = 1001; chat <= 1150; chat++) void send(chat, `to ${chat}`);
    expect(throttle.chats).toBe(300); // nothing full yet: the sweep waits for the map to double
    clock.advance(600); // chats 2..150 are full again, chat 1 spent its token on `waits` at 1000 ms
    for (let chat = 2001; chat <= 2101; chat++) void send(chat, `to ${chat}`);
    expect(throttle.chats).toBe(1 + 150 + 101);
    const before = sent.length;
    void send(1001, 'still held'); // kept, half refilled: it must wait
    expect(sent).toHaveLength(before);
  });

  it('lets 20,000 calls to 10,000 chats through without one wait, timer or promise of its own', () => {
    const { clock, throttle, sent, answers, send } = throttled({ perSecond: 100_000 });
    const results: Promise<unknown>[] = [];
    for (let round = 0; round < 2; round++) for (let chat = 1; chat <= 10_000; chat++) results.push(send(chat, 'hi'));
    expect(sent).toHaveLength(20_000); // every call went on before this line: none waited
    expect(clock.armed).toBe(0);
    expect(results.every((result, i) => result === answers[i])).toBe(true); // prev's own promises, not wrapped
    expect(throttle.chats).toBeLessThanOrEqual(10_000);
  });

  it('holds and then releases on the real clock', async () => {
    const throttle = createThrottle({ ...defaultThrottle, chat: { burst: 1, perSecond: 50 } });
    const sent: string[] = [];
    const prev = ((_method: string, payload: { text: string }) => (sent.push(payload.text), Promise.resolve({ ok: true, result: true }))) as unknown as ApiCallFn;
    const first = throttle(prev, 'sendMessage', { chat_id: 7, text: 'now' });
    const second = throttle(prev, 'sendMessage', { chat_id: 7, text: 'later' });
    expect(sent).toEqual(['now']);
    await Promise.all([first, second]);
    expect(sent).toEqual(['now', 'later']);
  });

  it('refuses a limit that lets nothing through', () => {
    expect(() => createThrottle({ ...defaultThrottle, perSecond: 0 })).toThrow(EngineError);
    expect(() => createThrottle({ ...defaultThrottle, chat: { burst: 0, perSecond: 1 } })).toThrow(/burst of at least 1/);
  });
});
