import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toFtsQuery } from "./search-query.ts";

/** Text made of FTS5 operators, punctuation and odd characters, which random strings rarely hit. */
const syntaxSoup = fc
  .array(
    fc.constantFrom(
      "OR",
      "AND",
      "NOT",
      "NEAR",
      "NEAR/2",
      '"',
      "*",
      "(",
      ")",
      ":",
      "^",
      "-",
      "+",
      "{",
      "}",
      "apple",
      "é",
      "\u0301",
      " ",
      "_",
      "\u0000",
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(""));

describe("toFtsQuery", () => {
  test("quotes every word, all required, the last as a prefix", () => {
    expect(toFtsQuery("apple pie")).toBe('"apple" "pie"*');
    expect(toFtsQuery("  München  ")).toBe('"München"*');
    expect(toFtsQuery('"a" OR b* NEAR(c)')).toBe('"a" "OR" "b" "NEAR" "c"*');
    expect(toFtsQuery("body:x -y ^z")).toBe('"body" "x" "y" "z"*');
  });

  test("text without a word is no query", () => {
    for (const q of ["", "   ", '"', "*", "%", "()", "🎉", "-- ;"]) expect(toFtsQuery(q)).toBeNull();
  });

  test("FTS5 accepts the query built from any text", () => {
    const db = new Database(":memory:");
    db.run("CREATE VIRTUAL TABLE t USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2')");
    db.run("INSERT INTO t (body) VALUES ('apple pie'), ('Grüße aus München'), ('e\u0301 combining')");
    const match = db.prepare("SELECT rowid FROM t WHERE t MATCH ?");
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), syntaxSoup), (text) => {
        const q = toFtsQuery(text);
        if (q !== null) expect(() => match.all(q)).not.toThrow();
      }),
      { numRuns: 400 },
    );
    db.close();
  });
});
