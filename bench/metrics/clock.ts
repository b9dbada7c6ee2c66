/**
 * Wall-clock microseconds since the epoch with sub-millisecond resolution. Every process on the machine derives it
 * from the same system clock (`timeOrigin` is an epoch timestamp), so a send time written by one process can be
 * subtracted from a receive time read in another.
 */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
