import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { assign, createActor, createMachine, emit, fromCallback, raise, setup, type AnyStateMachine } from 'xstate';
import { createShopServices } from '../../flows/services.js';
import { shopFlow } from '../../flows/shop.js';
import { parseCatalog } from '../../src/commerce/catalog.js';
import type { Effect } from '../../src/core/effects.js';
import type { InboundEvent } from '../../src/core/events.js';
import { defineFlow, type FlowInput } from '../../src/core/flow.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { PureStepper } from '../../src/core/pure-step.js';
import { compileFlow, step } from '../../src/core/runtime.js';
import type { SnapshotEnvelope } from '../../src/core/store.js';

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const key = conversationKey(alice);
const input: FlowInput = { key, address: alice };
let sequence = 0;
const text = (said: string): InboundEvent => ({ type: 'text', id: `e${++sequence}`, key, at: 1_700_000_000_000 + sequence, address: alice, text: said });
const tap = (payload: string): InboundEvent => ({ type: 'payload', id: `e${++sequence}`, key, at: 1_700_000_000_000 + sequence, address: alice, payload });

/** The same step in a short-lived actor, as XState runs a machine. */
function inActor(machine: AnyStateMachine, snapshot: unknown, event: InboundEvent) {
  const actor = createActor(machine, { input, ...(snapshot === undefined ? {} : { snapshot: snapshot as never }) });
  const effects: unknown[] = [];
  actor.on('*', (emitted) => void effects.push(emitted));
  actor.start();
  actor.send(event);
  const outcome = { persisted: actor.getPersistedSnapshot(), effects, value: actor.getSnapshot().value };
  actor.stop();
  return outcome;
}

/** A conversation flow around `machine`, for `step`. */
const flowOf = (machine: () => AnyStateMachine) => compileFlow(defineFlow({ id: 'probe', version: 1, kind: 'conv', machine }), {});

describe('a step without an actor', () => {
  it('answers what an actor answers, step by step, through a whole shop conversation', () => {
    const catalog = parseCatalog(readFileSync('data/demo-catalog.json', 'utf8'), 'json');
    const machine = shopFlow.machine(createShopServices(catalog));
    const stepper = new PureStepper(machine);
    const conversation = [
      text('hi'), text('browse'), tap('cat:Coffee beans'), tap('product:eth-yirg-250'), tap('add:eth-yirg-250'),
      text('2'), text('ethiopia'), text('nothing like this'), tap('qty:col-huila-250:1'), text('cart'),
      tap('checkout'), text('help'), tap('delivery:shipping'), text('12 Rue de la Paix, Paris'), text('Alice Martin'),
      text('not a phone'), text('+33 6 12 34 56 78'), tap('time:asap'), tap('change'), tap('change:recipient'),
      text('Alice B. Martin'), tap('confirm'), text('orders'), text('menu'), text('cancel'),
    ];
    let snapshot: unknown;
    for (const event of conversation) {
      // Through JSON, as the store keeps it.
      const stored = snapshot === undefined ? undefined : JSON.parse(JSON.stringify(snapshot));
      const pure = stepper.step(stored, input, event);
      const actor = inActor(machine, stored, event);
      expect(pure, `${event.type} ${JSON.stringify(event)}`).toEqual(actor);
      snapshot = actor.persisted;
    }
    // The conversation went through checkout and placed the order.
    expect(JSON.stringify(snapshot)).toContain('"value":"idle"');
  });

  it('runs an undelayed raise in the same step', () => {
    const machine = setup({ types: { events: {} as InboundEvent | { type: 'again' } } }).createMachine({
      on: { text: { actions: raise({ type: 'again' }) }, again: { actions: emit({ type: 'log', text: 'raised' } as never) } },
    });
    expect(new PureStepper(machine).step(undefined, input, text('hi'))).toEqual(inActor(machine, undefined, text('hi')));
  });

  it('leaves a custom action to the actor, which runs it exactly once', () => {
    let runs = 0;
    const machine = createMachine({ on: { text: { actions: [() => void runs++, emit({ type: 'reply', to: alice, message: { kind: 'text', text: 'ok' } })] } } });
    expect(new PureStepper(machine).step(undefined, input, text('hi'))).toBeNull();
    expect(runs).toBe(0);
    const result = step(flowOf(() => machine), null, text('hi'));
    expect(runs).toBe(1);
    expect(result.effects).toEqual([{ type: 'reply', to: alice, message: { kind: 'text', text: 'ok' } }]);
  });

  it('leaves a delayed raise and a spawned child to the actor, step after step', () => {
    const delayed = createMachine({ on: { text: { actions: raise({ type: 'later' }, { delay: 1_000 }) } } });
    expect(new PureStepper(delayed).step(undefined, input, text('hi'))).toBeNull();

    // A child with a system id, spawned again in every step.
    const spawning = setup({
      types: { context: {} as { child?: unknown }, emitted: {} as Effect },
      actors: { helper: fromCallback(() => () => {}) },
    }).createMachine({
      context: {},
      on: {
        text: {
          actions: [
            assign({ child: ({ spawn }) => spawn('helper', { systemId: 'helper' }) }),
            emit({ type: 'reply', to: alice, message: { kind: 'text', text: 'spawned' } }),
          ],
        },
      },
    });
    const stepper = new PureStepper(spawning);
    const flow = flowOf(() => spawning);
    for (let i = 0; i < 3; i++) {
      expect(stepper.step(undefined, input, text('hi'))).toBeNull();
      expect(step(flow, null, text('hi')).effects).toEqual([{ type: 'reply', to: alice, message: { kind: 'text', text: 'spawned' } }]);
    }
  });

  it('stops trying a machine that keeps needing an actor', () => {
    let guards = 0;
    const machine = createMachine({ on: { text: { guard: () => (guards++, true), actions: () => {} } } });
    const stepper = new PureStepper(machine);
    for (let i = 0; i < 40; i++) stepper.step(undefined, input, text('hi'));
    expect(guards).toBe(33);
  });

  it('keeps trying a machine whose stored snapshots do not restore', () => {
    const machine = createMachine({
      initial: 'talking',
      states: { talking: { on: { text: { actions: emit({ type: 'reply', to: alice, message: { kind: 'text', text: 'ok' } }) } } } },
    });
    const stepper = new PureStepper(machine);
    const gone = { status: 'active', value: 'no-such-state', context: {}, children: {}, historyValue: {} };
    for (let i = 0; i < 40; i++) expect(stepper.step(gone, input, text('hi'))).toBeNull();
    expect(stepper.step(undefined, input, text('hi'))).toEqual(inActor(machine, undefined, text('hi')));
  });

  it('is how step runs the shop, and what it stores restores in an actor', () => {
    const catalog = parseCatalog(readFileSync('data/demo-catalog.json', 'utf8'), 'json');
    const flow = compileFlow(shopFlow, createShopServices(catalog));
    const attempts = vi.spyOn(flow.stepper, 'step');
    const first = step(flow, null, text('hi'));
    const stored: SnapshotEnvelope = { ...first.envelope, rev: 1, snapshot: JSON.parse(JSON.stringify(first.envelope.snapshot)) };
    expect(step(flow, stored, text('cart')).effects).toEqual(inActor(flow.machine, stored.snapshot, text('cart')).effects);
    expect(attempts.mock.results.map((result) => result.value === null)).toEqual([false, false]);
  });
});
