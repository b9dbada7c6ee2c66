/**
 * When, within each period of its rate, a sender sends: its phase, a fraction of the period in [0, 1).
 *
 * - `independent` (the default of the chat-shaped scenarios): each sender's phase is a fixed pseudo-random draw
 *   from its index, the same on every run and unrelated to its room. A room's members send independently of each
 *   other, as people do, and a room's messages arrive spread over the period.
 * - `in-turn`: the phase follows the index (i / n). The layouts number a room's members one after another
 *   (`roomsOf`), so a room's members send one after another: each room's messages come in one burst per period
 *   (the 50 of a seed room within 17 ms every 5 s, the 100 of an afreeca room within 300 ms every minute), and
 *   the server can gather a burst's events into a few writes per subscriber. Until 2026-12-07 (eighth round)
 *   this was the only schedule; it stays for comparison with those results and as the bursty case. With one
 *   sender per room (fanout, storm, smoke) it only spreads the rooms' sends evenly over the period.
 */
export const SCHEDULES = ["independent", "in-turn"] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** The phase of sender `index` of `count` (every connection counted, senders or not). */
export function phaseOf(schedule: Schedule, index: number, count: number): number {
  if (schedule === "in-turn") return count > 0 ? index / count : 0;
  return mix32(index) / 2 ** 32;
}

/** The sentence a report carries about the schedule it ran. */
export function scheduleNote(schedule: Schedule): string {
  return schedule === "independent"
    ? "Senders are independent (--schedule independent): each sends once per interval at a fixed pseudo-random phase, unrelated to its room, so a room's messages arrive spread over the interval."
    : "Senders take turns (--schedule in-turn): a room's members send one after another, so each room's messages arrive in one burst per interval (the only schedule before 2026-12-07's eighth round).";
}

/**
 * A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32): neighbouring indexes, such as the members
 * of one room, get unrelated phases.
 */
function mix32(n: number): number {
  let x = n >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
