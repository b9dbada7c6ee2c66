import { describe, expect, test } from "bun:test";
import { argon2Hasher, OWASP_ARGON2ID } from "./argon2-hasher.ts";

describe("argon2Hasher", () => {
  test("defaults are argon2id with OWASP parameters, and verify round-trips", async () => {
    const h = argon2Hasher();
    const hash = await h.hash("correct horse battery staple");
    expect(hash).toStartWith("$argon2id$");
    expect(hash).toContain(`m=${OWASP_ARGON2ID.memoryCost},t=${OWASP_ARGON2ID.timeCost},p=1`);
    expect(await h.verify("correct horse battery staple", hash)).toBe(true);
    expect(await h.verify("correct horse battery stapler", hash)).toBe(false);
  });

  test("each hash is salted", async () => {
    const h = argon2Hasher({ memoryCost: 1024, timeCost: 1 });
    expect(await h.hash("same")).not.toBe(await h.hash("same"));
  });

  test("a malformed hash verifies false instead of throwing", async () => {
    const h = argon2Hasher({ memoryCost: 1024, timeCost: 1 });
    expect(await h.verify("x", "not a hash")).toBe(false);
    expect(await h.verify("x", "")).toBe(false);
  });
});
