/**
 * Fan-out's ratios Parley ÷ peer: from each side's best passing step, and, for a peer that passed no step, a lower
 * bound from what its first step offered (RabbitMQ at full size breaks at its first step).
 */
import { describe, expect, test } from "bun:test";
import type { RunResult, StepResult } from "../../bench/runner/run-load.ts";
import { ratioChecks } from "../../bench/scenarios/fanout.ts";

const step = (rate: number, deliveriesPerSec: number, delivered: number, passed: boolean): StepResult =>
  ({ rate, deliveriesPerSec, delivered, passed, generatorSaturated: false }) as StepResult;

function run(target: string, steps: StepResult[]): RunResult {
  const passing = steps.filter((s) => s.passed);
  const peak =
    passing.length === 0 ? null : passing.reduce((a, b) => (b.deliveriesPerSec > a.deliveriesPerSec ? b : a));
  return { target, steps, peak } as unknown as RunResult;
}

const parley = run("parley", [
  step(5, 50_000, 1, true),
  step(10, 100_000, 1, true),
  step(20, 150_000, 0.75, false),
]);
const byPeer = (checks: ReturnType<typeof ratioChecks>, peer: string) =>
  checks.find((c) => c.name.includes(`÷ ${peer}`))!;

describe("fanout ratios", () => {
  test("a peer with a passing step: the ratio of the two peaks, judged against the goal", () => {
    const checks = ratioChecks([
      parley,
      run("bare", [step(10, 100_000, 1, true), step(20, 125_000, 0.97, true)]),
    ]);
    expect(byPeer(checks, "bare")).toMatchObject({ value: "0.80×", ok: true });
    const slow = ratioChecks([
      parley,
      run("socketio", [step(5, 50_000, 1, true), step(10, 70_000, 0.7, false)]),
    ]);
    expect(byPeer(slow, "socketio")).toMatchObject({ value: "2.00×", ok: false });
  });

  test("a peer that broke at its first step bounds the ratio from below by what that step offered", () => {
    // 4,837 of 9,973 offered deliveries a second arrived: whatever it sustains is below that.
    const rabbit = run("rabbitmq", [step(1, 4_837, 0.485, false)]);
    const c = byPeer(ratioChecks([parley, rabbit]), "rabbitmq");
    expect(c.value).toStartWith("> 10.03× (rabbitmq passed no step");
    expect(c.value).toContain("9,973 deliveries/s offered");
    // The bound is below the goal of 100×, so it decides nothing.
    expect(c.ok).toBeNull();
    // A bound that already reaches the goal meets it.
    const tiny = run("rabbitmq", [step(1, 500, 0.5, false)]);
    expect(byPeer(ratioChecks([parley, tiny]), "rabbitmq")).toMatchObject({ ok: true });
  });

  test("a peer that did not run, or a Parley without a passing step, leaves the ratio unmeasured", () => {
    const checks = ratioChecks([parley]);
    expect(byPeer(checks, "rabbitmq")).toMatchObject({ value: "–", ok: null });
    const broken = run("parley", [step(1, 5_000, 0.5, false)]);
    expect(byPeer(ratioChecks([broken, run("bare", [step(1, 10_000, 1, true)])]), "bare")).toMatchObject({
      value: "–",
      ok: null,
    });
  });
});
