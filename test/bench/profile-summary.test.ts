import { describe, expect, it } from 'vitest';
import { summarize, timeline, type CpuProfile } from '../../bench/profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });

// A root with three leaves: idle, an engine function and an XState one.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('step', 'file:///work/main/dist/src/core/runtime.js') },
    { id: 4, callFrame: frame('transition', 'file:///work/main/node_modules/xstate/dist/x.js') },
  ],
  // A sample is taken at the end of its delta: at 250, 500, … 2,000 ms.
  samples: [3, 3, 3, 3, 4, 2, 2, 4],
  timeDeltas: Array(8).fill(250_000),
};

describe('the profile summary', () => {
  it('counts the busy time of each second, leaving idle samples out', () => {
    expect(timeline(profile)).toEqual([750, 500, 250]);
  });

  it('keeps only the samples of the window asked for', () => {
    const area = (summary: ReturnType<typeof summarize>, name: string) => summary.areas.find(([found]) => found === name)?.[1] ?? 0;
    const whole = summarize(profile);
    expect(area(whole, 'engine core (src/core)')).toBe(1_000);
    expect(area(whole, 'xstate')).toBe(500);

    const second = summarize(profile, { fromMs: 1_000, toMs: 2_000 });
    expect(area(second, 'engine core (src/core)')).toBe(250);
    expect(area(second, 'xstate')).toBe(250);
    expect(area(second, 'idle')).toBe(500);
    expect(second.totalMs).toBe(1_000);
  });
});
