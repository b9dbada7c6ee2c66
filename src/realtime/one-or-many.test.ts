import { describe, expect, test } from "bun:test";
import { addOne, type OneOrMany, removeOne, sizeOf } from "./one-or-many.ts";

describe("OneOrMany", () => {
  const [a, b, c] = [{ n: 1 }, { n: 2 }, { n: 3 }];

  test("nothing, the item itself, an array from the second; back down the same way", () => {
    let set: OneOrMany<{ n: number }> = null;
    set = addOne(set, a);
    expect(set).toBe(a);
    set = addOne(set, b);
    expect(set).toEqual([a, b]);
    set = addOne(set, c);
    expect(sizeOf(set)).toBe(3);
    set = removeOne(set, b);
    expect(set).toEqual([a, c]);
    set = removeOne(set, a);
    expect(set).toBe(c);
    set = removeOne(set, c);
    expect(set).toBeNull();
    expect(sizeOf(set)).toBe(0);
  });

  test("an item is held at most once; removing one that is not there changes nothing", () => {
    let set = addOne(addOne(null, a), a);
    expect(set).toBe(a);
    set = addOne(addOne(set, b), b);
    expect(sizeOf(set)).toBe(2);
    expect(removeOne(a, b)).toBe(a);
    expect(removeOne(null, a)).toBeNull();
    expect(sizeOf(removeOne(set, c))).toBe(2);
  });
});
