import { describe, expect, test } from "bun:test";
import { DeliveryWaiters } from "./delivery-waiters.ts";

/** The order in which waits settled, by label. */
function tracked(w: DeliveryWaiters) {
  const settled: string[] = [];
  const wait = (label: string, seq: number, timeoutMs = 60_000) =>
    w.wait(seq, timeoutMs).then(() => settled.push(label));
  return { settled, wait };
}

describe("DeliveryWaiters", () => {
  test("reaching a seq releases the waits for it and earlier ones only", async () => {
    const w = new DeliveryWaiters();
    const { settled, wait } = tracked(w);
    const waits = [wait("3", 3), wait("5", 5), wait("4", 4)];
    w.reached(4);
    await Bun.sleep(0);
    expect(settled.sort()).toEqual(["3", "4"]);
    w.reached(4);
    w.reached(9);
    await Promise.all(waits);
    expect(settled.sort()).toEqual(["3", "4", "5"]);
  });

  test("a wait nobody reaches settles at its timeout; releaseAll settles the rest at once", async () => {
    const w = new DeliveryWaiters();
    const { settled, wait } = tracked(w);
    const short = wait("short", 10, 20);
    void wait("long", 10);
    await short;
    expect(settled).toEqual(["short"]);
    w.releaseAll();
    await Bun.sleep(0);
    expect(settled).toEqual(["short", "long"]);
    // Nothing is left to release: a later reach settles nothing twice.
    w.reached(100);
    await Bun.sleep(0);
    expect(settled).toEqual(["short", "long"]);
  });
});
