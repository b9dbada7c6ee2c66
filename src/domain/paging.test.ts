import { describe, expect, test } from "bun:test";
import { nextAfter } from "./paging.ts";

describe("nextAfter", () => {
  const id = (s: string) => s;
  test("a full page points past its last id; a short or empty one ends the list", () => {
    expect(nextAfter(["a", "b"], 2, id)).toBe("b");
    expect(nextAfter(["a"], 2, id)).toBeNull();
    expect(nextAfter([], 2, id)).toBeNull();
    expect(nextAfter([{ userId: "u1" }], 1, (m) => m.userId)).toBe("u1");
  });
});
