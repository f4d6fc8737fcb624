/** A clock that only moves when told: tests decide what time it is. */
export interface TestClock {
  (): number;
  /** Moves the clock forward. */
  advance(ms: number): void;
  set(at: number): void;
}

/**
 * Creates a controllable clock.
 * @example const clock = createTestClock(Date.UTC(2026, 0, 1)); clock.advance(60_000);
 */
export function createTestClock(start = Date.UTC(2026, 0, 1, 9)): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (at) => {
    now = at;
  };
  return clock;
}
