/** The lower-bound mark: one saturated second is enough, an average over the step is not what counts. */
import { describe, expect, test } from "bun:test";
import { generatorSaturated, SATURATED_SHARE } from "../../bench/runner/saturation.ts";

describe("generator saturation", () => {
  test("a step with one second at ≥ 95 % of the generator's core is a lower bound, even if it averaged less", () => {
    const seconds = [0.3, 0.4, 0.96, 0.2];
    expect(seconds.reduce((a, b) => a + b, 0) / seconds.length).toBeLessThan(0.9);
    expect(generatorSaturated(seconds, 1)).toBe(true);
  });

  test("seconds below the threshold are not saturated", () => {
    expect(generatorSaturated([0.94, 0.9, 0.5], 1)).toBe(false);
    expect(generatorSaturated([], 1)).toBe(false);
  });

  test("the threshold scales with the generator's cores", () => {
    expect(generatorSaturated([1.5], 2)).toBe(false);
    expect(generatorSaturated([SATURATED_SHARE * 2], 2)).toBe(true);
  });
});
