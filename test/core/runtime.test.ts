import { describe, expect, it } from 'vitest';
import { createMachine, emit } from 'xstate';
import { defineFlow } from '../../src/core/flow.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { compileFlow, step } from '../../src/core/runtime.js';
import type { SnapshotEnvelope } from '../../src/core/store.js';
import { echoFlow } from './echo-flows.js';

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const hello = (text = 'hello') => ({ type: 'text' as const, id: 'e1', key: conversationKey(alice), at: 5, address: alice, text });
const compiled = compileFlow(echoFlow, { prefix: '#' });

describe('runtime step', () => {
  it('starts a new actor, sends the event and collects what the machine emits', () => {
    const result = step(compiled, null, hello());
    expect(result.effects).toEqual([{ type: 'reply', to: alice, message: { kind: 'text', text: '#1:hello' } }]);
    expect(result.envelope).toMatchObject({ flowId: 'echo', flowVersion: 2 });
    expect(result.recovered).toBeUndefined();
  });

  it('continues from the stored snapshot', () => {
    const first = step(compiled, null, hello());
    const second = step(compiled, { ...first.envelope, rev: 1 }, hello('again'));
    expect(second.effects[0]).toMatchObject({ message: { text: '#2:again' } });
  });

  it('restarts with the notice when the stored snapshot is of an older version and there is no migrate', () => {
    const old: SnapshotEnvelope = { flowId: 'echo', flowVersion: 1, rev: 3, snapshot: { value: 'gone', context: {} } };
    const result = step(compiled, old, hello());
    expect(result.recovered).toBe('restarted');
    expect(result.effects.map((e) => (e.type === 'reply' && e.message.kind === 'text' ? e.message.text : e.type))).toEqual([
      'we had to start over',
      '#1:hello',
    ]);
  });

  it('migrates an older snapshot when the flow knows how', () => {
    const migrating = compileFlow(
      defineFlow({
        ...echoFlow,
        migrate: (snapshot, from) => (from === 1 ? { ...(snapshot as object), context: { count: 41 } } : null),
      }),
      { prefix: '#' },
    );
    const v1 = step(compileFlow(defineFlow({ ...echoFlow, version: 1 }), { prefix: '#' }), null, hello());
    const result = step(migrating, { ...v1.envelope, rev: 1 }, hello());
    expect(result.recovered).toBe('migrated');
    expect(result.effects[0]).toMatchObject({ message: { text: '#42:hello' } });
  });

  it('restarts when a snapshot cannot be restored instead of throwing', () => {
    const broken: SnapshotEnvelope = { flowId: 'echo', flowVersion: 2, rev: 1, snapshot: { status: 'active', value: 'no-such-state', context: {} } };
    const result = step(compiled, broken, hello());
    expect(result.recovered).toBe('restarted');
    expect(result.effects.at(-1)).toMatchObject({ message: { text: '#1:hello' } });
  });

  it('raises a FLOW error, keeping nothing, when the machine throws', () => {
    expect(() => step(compiled, null, hello('boom'))).toThrow(/flow echo failed on text/);
  });

  it('refuses an emitted event that is not an effect', () => {
    const weird = compileFlow(
      defineFlow({
        id: 'weird',
        version: 1,
        kind: 'conv',
        machine: () => createMachine({ on: { text: { actions: emit({ type: 'bogus' }) } } }),
      }),
      {},
    );
    expect(() => step(weird, null, hello())).toThrow(/flow weird failed/);
  });
});
