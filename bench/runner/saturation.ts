/**
 * When a step's throughput is only a lower bound: if the generator's cores were (nearly) full in any second of the
 * step, deliveries may have waited in the generator's own receive queue, so neither the rate nor the latency of
 * that step can be charged to the server. An average over the step would hide a saturated second between idle
 * ones, hence the per-second test.
 */

/** Share of the generator's cores above which a second counts as saturated. */
export const SATURATED_SHARE = 0.95;

/**
 * `perSecond` holds the generator's CPU use of each second of the step (1 = one full core, summed over its
 * workers); `cores` is how many cores the generator could use (min(workers, generator cores)).
 */
export function generatorSaturated(perSecond: readonly number[], cores: number): boolean {
  const limit = SATURATED_SHARE * Math.max(1, cores);
  return perSecond.some((c) => c >= limit);
}
