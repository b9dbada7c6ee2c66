import { describe, expect, test } from "bun:test";
import { LocalSubscribers } from "./local-subscribers.ts";

const payload = Uint8Array.of(1);

describe("LocalSubscribers (one entry per channel, a Set only from the second)", () => {
  test("first and last are reported across one → two → one → none", () => {
    const local = new LocalSubscribers(() => {});
    const a = local.add("c", () => {});
    const b = local.add("c", () => {});
    expect([a.first, b.first]).toEqual([true, false]);
    expect(local.remove(a.entry).last).toBe(false);
    expect(local.remove(a.entry).last).toBe(false);
    const c = local.add("c", () => {});
    expect(c.first).toBe(false);
    expect(local.remove(b.entry).last).toBe(false);
    expect(local.remove(c.entry).last).toBe(true);
    expect(local.has("c")).toBe(false);
  });

  test("after shrinking back to one subscriber, only that one is called", () => {
    const local = new LocalSubscribers(() => {});
    const got: string[] = [];
    const a = local.add("c", () => got.push("a"));
    local.add("c", () => got.push("b"));
    local.remove(a.entry);
    local.deliver("c", payload);
    expect(got).toEqual(["b"]);
  });

  test("a handler removed by an earlier one during a delivery is skipped; one added during it waits", () => {
    const local = new LocalSubscribers(() => {});
    const got: string[] = [];
    let second: ReturnType<LocalSubscribers["add"]> | null = null;
    local.add("c", () => {
      got.push("a");
      if (second !== null) local.remove(second.entry);
      local.add("c", () => got.push("late"));
    });
    second = local.add("c", () => got.push("b"));
    local.deliver("c", payload);
    expect(got).toEqual(["a"]);
  });

  test("a lone subscriber that throws is reported", () => {
    const errors: unknown[] = [];
    const local = new LocalSubscribers((e) => errors.push(e));
    local.add("c", () => {
      throw new Error("boom");
    });
    local.deliver("c", payload);
    expect(errors).toHaveLength(1);
  });
});
