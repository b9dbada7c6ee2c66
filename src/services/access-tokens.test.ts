import { describe, expect, test } from "bun:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { AccessTokens } from "./access-tokens.ts";

const opts = { secret: "s".repeat(40), issuer: "parley", audience: "parley", ttlSeconds: 900 };
const t0 = Date.UTC(2026, 0, 1);
const key = new TextEncoder().encode(opts.secret);

describe("AccessTokens", () => {
  const tokens = new AccessTokens(opts);

  test("round trip within the lifetime", async () => {
    const jwt = await tokens.sign({ userId: "U1", sessionId: "S1" }, t0);
    expect(await tokens.verify(jwt, t0 + 899_000)).toEqual({ userId: "U1", sessionId: "S1" });
  });

  test("expired after ttl", async () => {
    const jwt = await tokens.sign({ userId: "U1", sessionId: "S1" }, t0);
    expect(await tokens.verify(jwt, t0 + 901_000)).toBeNull();
  });

  test("wrong issuer, audience or key is rejected", async () => {
    const jwt = await tokens.sign({ userId: "U1", sessionId: "S1" }, t0);
    expect(await new AccessTokens({ ...opts, issuer: "other" }).verify(jwt, t0)).toBeNull();
    expect(await new AccessTokens({ ...opts, audience: "other" }).verify(jwt, t0)).toBeNull();
    expect(await new AccessTokens({ ...opts, secret: "t".repeat(40) }).verify(jwt, t0)).toBeNull();
  });

  test("algorithm is pinned: alg none and HS512 are refused", async () => {
    const iat = Math.floor(t0 / 1000);
    const none = new UnsecuredJWT({ sid: "S1" })
      .setSubject("U1")
      .setIssuer("parley")
      .setAudience("parley")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .encode();
    expect(await tokens.verify(none, t0)).toBeNull();
    const hs512 = await new SignJWT({ sid: "S1" })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject("U1")
      .setIssuer("parley")
      .setAudience("parley")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(new TextEncoder().encode("s".repeat(64)));
    expect(await tokens.verify(hs512, t0)).toBeNull();
    // Same key, right algorithm, but no session id: not one of ours.
    const noSid = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("U1")
      .setIssuer("parley")
      .setAudience("parley")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key);
    expect(await tokens.verify(noSid, t0)).toBeNull();
  });

  test("a changed payload or signature, or a missing iat, is refused", async () => {
    const jwt = await tokens.sign({ userId: "U1", sessionId: "S1" }, t0);
    const [h, p, sig] = jwt.split(".") as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "U9" }),
    );
    expect(await tokens.verify(`${h}.${forged.toString("base64url")}.${sig}`, t0)).toBeNull();
    // The first character: all six of its bits are the signature's (the last one's lowest two are padding).
    const flipped = (sig.startsWith("A") ? "B" : "A") + sig.slice(1);
    expect(await tokens.verify(`${h}.${p}.${flipped}`, t0)).toBeNull();
    const iat = Math.floor(t0 / 1000);
    const noIat = await new SignJWT({ sid: "S1" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("U1")
      .setIssuer("parley")
      .setAudience("parley")
      .setExpirationTime(iat + 60)
      .sign(key);
    expect(await tokens.verify(noIat, t0)).toBeNull();
  });

  test("garbage never throws", async () => {
    for (const junk of ["", "a.b.c", "....", "eyJ.eyJ.x", "\u0000", "x".repeat(10_000)]) {
      expect(await tokens.verify(junk, t0)).toBeNull();
    }
  });
});
