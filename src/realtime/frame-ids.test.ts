import { describe, expect, test } from "bun:test";
import { frameIds } from "./frame-ids.ts";

describe("frameIds", () => {
  test("one generator never repeats an id", () => {
    const next = frameIds();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(next());
    expect(seen.size).toBe(100_000);
  });

  test("two generators (two processes) do not share ids", () => {
    const a = frameIds();
    const b = frameIds();
    const fromA = new Set(Array.from({ length: 1000 }, () => a()));
    expect(Array.from({ length: 1000 }, () => b()).some((id) => fromA.has(id))).toBe(false);
  });

  test("ids are header-safe: no character STOMP would have to escape", () => {
    const next = frameIds();
    for (let i = 0; i < 1000; i++) expect(next()).toMatch(/^[A-Za-z0-9_.-]+$/);
  });
});
