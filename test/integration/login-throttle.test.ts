import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { type Client, client, expectError, expectStatus, signup, uniqueName } from "./helpers.ts";

describe("login throttling", () => {
  const ACCOUNT_MAX = 3;
  const ADDRESS_MAX = 6;
  let proxied: TestServer;
  let direct: TestServer;
  let viaProxy: Client;
  let noProxy: Client;

  beforeAll(async () => {
    const config = {
      loginMaxFailures: ACCOUNT_MAX,
      loginIpMaxFailures: ADDRESS_MAX,
      loginWindowSeconds: 600,
    };
    [proxied, direct] = await Promise.all([
      startTestServer({ config: { ...config, trustProxy: true } }),
      startTestServer({ config: { ...config, trustProxy: false } }),
    ]);
    viaProxy = client(proxied.api);
    noProxy = client(direct.api);
  });
  afterAll(() => Promise.all([proxied.stop(), direct.stop()]));

  const attempt = (c: Client, loginName: string, password: string, ip: string) =>
    c.request("POST", "/auth/login", {
      body: { login: loginName, password },
      headers: { "x-forwarded-for": ip },
    });

  test("an account is locked after repeated failures, from any address; other accounts are not", async () => {
    const victim = await signup(viaProxy, "victim");
    const bystander = await signup(viaProxy, "bystander");
    for (let i = 0; i < ACCOUNT_MAX; i++) {
      expectError(
        await attempt(viaProxy, victim.user.username, "wrong password", `10.1.0.${i + 1}`),
        "INVALID_CREDENTIALS",
      );
    }
    // Even the right password, from a fresh address, is refused for the rest of the window.
    const locked = await attempt(viaProxy, victim.user.username, victim.password, "10.1.1.1");
    expectError(locked, "LOGIN_THROTTLED");
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // The same account under another spelling counts as the same account.
    expectError(
      await attempt(viaProxy, victim.user.username.toUpperCase(), victim.password, "10.1.1.2"),
      "LOGIN_THROTTLED",
    );

    expectStatus(await attempt(viaProxy, bystander.user.username, bystander.password, "10.1.0.1"), 200);
    // The victim's existing session is untouched.
    expectStatus(await viaProxy.get("/me", victim.accessToken), 200);
  });

  test("an address is blocked after failures across many accounts; other addresses are not", async () => {
    const user = await signup(viaProxy, "sprayed");
    for (let i = 0; i < ADDRESS_MAX; i++) {
      expectError(
        await attempt(viaProxy, uniqueName("spray"), "wrong password", "10.2.0.1"),
        "INVALID_CREDENTIALS",
      );
    }
    const blocked = await attempt(viaProxy, user.user.username, user.password, "10.2.0.1");
    expectError(blocked, "LOGIN_THROTTLED");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expectStatus(await attempt(viaProxy, user.user.username, user.password, "10.2.0.2"), 200);
  });

  test("unknown logins are throttled like real ones, so a 429 reveals nothing", async () => {
    const ghost = uniqueName("ghost");
    for (let i = 0; i < ACCOUNT_MAX; i++) {
      expectError(await attempt(viaProxy, ghost, "wrong password", `10.3.0.${i + 1}`), "INVALID_CREDENTIALS");
    }
    expectError(await attempt(viaProxy, ghost, "wrong password", "10.3.1.1"), "LOGIN_THROTTLED");
  });

  test("without trustProxy, X-Forwarded-For is ignored: a client cannot escape the address limit by spoofing it", async () => {
    const user = await signup(noProxy, "spoof");
    for (let i = 0; i < ADDRESS_MAX; i++) {
      expectError(
        await attempt(noProxy, uniqueName("spray"), "wrong password", `192.0.2.${i + 1}`),
        "INVALID_CREDENTIALS",
      );
    }
    expectError(await attempt(noProxy, user.user.username, user.password, "198.51.100.7"), "LOGIN_THROTTLED");
    // The recorded address of a session is the socket's, not the header's.
    const sessions = await noProxy.get("/auth/sessions", user.accessToken);
    expect((sessions.body as { sessions: Array<{ ip: string | null }> }).sessions.map((s) => s.ip)).toEqual([
      "127.0.0.1",
    ]);
  });
});
