import { describe, expect, it } from 'vitest';
import { createTestChat } from '../../src/testing/index.js';
import { echoFlow, echoOrderFlow, surveyFlow } from '../core/echo-flows.js';

const flows = [echoFlow, echoOrderFlow, surveyFlow];

describe('the test chat', () => {
  it('sends a text and hands back exactly the replies it caused', async () => {
    const chat = await createTestChat({ flows, services: { prefix: '>' } });
    expect(await chat.send('hi')).toEqual([{ kind: 'text', text: '>1:hi' }]);
    expect(await chat.send('again')).toEqual([{ kind: 'text', text: '>2:again' }]);
    expect(chat.replies).toHaveLength(2);
    expect(chat.last).toEqual({ kind: 'text', text: '>2:again' });
    expect(await chat.state()).toBe('talking');
    expect(await chat.context<{ count: number }>()).toEqual({ count: 2 });
    await chat.close();
  });

  it('follows an order through its lifecycle actor and lists the customer’s orders', async () => {
    const chat = await createTestChat({ flows, services: { prefix: '' } });
    const replies = await chat.send('order');
    const [order] = await chat.orders();
    expect(order).toMatchObject({ total: 300, status: 0 });
    expect(replies).toEqual([
      { kind: 'text', text: `order ${order!.id} is 0` },
      { kind: 'text', text: `survey saw order ${order!.id}` },
    ]);
    await chat.close();
  });

  it('runs a scheduled command only once the controlled clock reaches it', async () => {
    const chat = await createTestChat({ flows, services: { prefix: '' } });
    expect(await chat.send('later')).toEqual([]);
    expect(await chat.advance(1_999)).toEqual([]);
    expect(await chat.advance(1)).toEqual([{ kind: 'text', text: 'task:wake up' }]);
    await chat.close();
  });

  it('taps a choice by its payload', async () => {
    const chat = await createTestChat({ flows, services: { prefix: '' } });
    expect(await chat.tap('@survey|great')).toEqual([{ kind: 'text', text: 'survey got great' }]);
    await chat.close();
  });
});
