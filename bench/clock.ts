/**
 * Milliseconds on the system's monotonic clock (`CLOCK_MONOTONIC` on Linux), with
 * sub-millisecond precision. Every process on the machine reads the same clock, so a time
 * taken by the load generator and one taken by the fake platform can be subtracted.
 * @example const sentAt = clockMs();
 */
export function clockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
