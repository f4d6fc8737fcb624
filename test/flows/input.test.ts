import { describe, expect, it } from 'vitest';
import { defaultTexts, texts } from '../../flows/messages.js';
import { readInput } from '../../flows/shop/input.js';
import type { InboundEvent } from '../../src/core/events.js';
import { conversationKey, type Address } from '../../src/core/ids.js';

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const said = (text: string): InboundEvent => ({ type: 'text', id: `e-${text}`, key: conversationKey(alice), at: 1, address: alice, text });

describe('readInput', () => {
  it('reads an event once per texts and mode, however many guards ask', () => {
    const event = said('search ethiopia');
    const loose = readInput(event, texts, true);
    expect(loose).toEqual({ kind: 'find', words: 'ethiopia' });
    expect(readInput(event, texts, true)).toBe(loose);
    // While a step waits for an answer, only menu, help and cancel are words.
    expect(readInput(event, texts, false)).toEqual({ kind: 'other', text: 'search ethiopia', payload: false });
    expect(readInput(event, texts, true)).toBe(loose);
    // Other texts read it afresh.
    const reworded = { ...defaultTexts, words: { ...defaultTexts.words, search: ['trouver'] } };
    expect(readInput(event, reworded, true)).toEqual({ kind: 'other', text: 'search ethiopia', payload: false });
  });
});
