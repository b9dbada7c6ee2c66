import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toPrefixTsQuery } from "./search-query.ts";

describe("toPrefixTsQuery", () => {
  test("ands the words and makes the last one a prefix", () => {
    expect(toPrefixTsQuery("Hello big World")).toBe("'hello' & 'big' & 'world':*");
  });

  test("query operators and quotes are separators, not syntax", () => {
    expect(toPrefixTsQuery("a&b | !c:* 'd' (e) \\f")).toBe("'a' & 'b' & 'c' & 'd' & 'e' & 'f':*");
  });

  test("keeps letters and digits of any script", () => {
    expect(toPrefixTsQuery("café 日本語 über2")).toBe("'café' & '日本語' & 'über2':*");
  });

  test("text without a word yields null", () => {
    expect(toPrefixTsQuery("")).toBeNull();
    expect(toPrefixTsQuery("  &|!  ")).toBeNull();
  });

  test("every term is a quoted literal free of quotes and backslashes, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const q = toPrefixTsQuery(text);
        if (q === null) return;
        for (const term of q.split(" & ")) expect(term).toMatch(/^'[^'\\\s&|!():]+'(:\*)?$/u);
      }),
    );
  });
});
