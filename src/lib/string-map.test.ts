import { describe, expect, test } from "bun:test";
import { StringMap } from "./string-map.ts";

describe("StringMap", () => {
  test("get, set, has, delete and size behave as a Map's", () => {
    const m = new StringMap<number>();
    const ref = new Map<string, number>();
    // A deterministic mix of inserts, overwrites and deletes over a small key space.
    let x = 7;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const key = `k${x % 97}`;
      if (x % 3 === 0) expect(m.delete(key)).toBe(ref.delete(key));
      else {
        m.set(key, i);
        ref.set(key, i);
      }
      expect(m.size).toBe(ref.size);
    }
    for (let k = 0; k < 97; k++) {
      expect(m.get(`k${k}`)).toBe(ref.get(`k${k}`));
      expect(m.has(`k${k}`)).toBe(ref.has(`k${k}`));
    }
    expect([...m.keys()].sort()).toEqual([...ref.keys()].sort());
    expect([...m.values()].sort()).toEqual([...ref.values()].sort());
  });

  test("any string is a key of its own: __proto__, constructor, numeric-looking, empty", () => {
    const m = new StringMap<string>();
    for (const key of [
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "0",
      "42",
      "4294967295",
      "",
      "\u0000",
    ])
      m.set(key, `v${key}`);
    expect(m.size).toBe(9);
    expect(m.get("__proto__")).toBe("v__proto__");
    expect(m.get("constructor")).toBe("vconstructor");
    expect(m.get("42")).toBe("v42");
    expect(m.get("")).toBe("v");
    expect(m.has("valueOf")).toBe(false);
    expect(m.get("valueOf")).toBeUndefined();
    expect(m.delete("__proto__")).toBe(true);
    expect(m.has("__proto__")).toBe(false);
    expect(m.size).toBe(8);
    // Nothing leaked onto shared prototypes.
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  test("keys() and values() are snapshots of what is present when called", () => {
    const m = new StringMap<number>();
    for (let i = 0; i < 100; i++) m.set(`user-${i}`, i);
    for (let i = 0; i < 100; i += 2) m.delete(`user-${i}`);
    const keys = m.keys();
    const values = m.values();
    expect([...keys].sort()).toEqual(Array.from({ length: 50 }, (_, k) => `user-${2 * k + 1}`).sort());
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * k + 1));
    // Changes after the call do not reach a snapshot already taken; a caller may delete while it walks one.
    for (const v of values) m.delete(`user-${v}`);
    expect(values).toHaveLength(50);
    expect(keys).toHaveLength(50);
    expect(m.size).toBe(0);
    expect(m.values()).toEqual([]);
  });

  test("clear empties it, and it is usable after", () => {
    const m = new StringMap<number>();
    for (let i = 0; i < 20_000; i++) m.set(`u${i}`, i);
    expect(m.size).toBe(20_000);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get("u1")).toBeUndefined();
    expect([...m.keys()]).toEqual([]);
    m.set("u1", 1);
    expect(m.get("u1")).toBe(1);
    expect(m.size).toBe(1);
  });
});
