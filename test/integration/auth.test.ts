import { describe, expect, test } from "bun:test";
import {
  type Account,
  expectError,
  expectStatus,
  login,
  rotateThenReuse,
  signup,
  UNKNOWN_ID,
  uniqueName,
  useTestServer,
  type WireUser,
} from "./helpers.ts";

const env = useTestServer();

describe("signup, login, me", () => {
  test("signup returns the account (with email, never a hash) and a working token pair", async () => {
    const username = uniqueName("Sig");
    const res = await env.api.post("/auth/signup", {
      username,
      email: `${username}@Example.test`,
      password: "a long enough password",
      displayName: "Sig Nup",
    });
    expectStatus(res, 201);
    const body = res.body as Account & { accessTokenExpiresIn: number };
    expect(body.user).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      username,
      displayName: "Sig Nup",
      role: "user",
      status: "active",
      email: `${username}@Example.test`,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(body.accessTokenExpiresIn).toBe(env.server.config.accessTokenTtlSeconds);
    expect(body.sessionId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.text).not.toContain("passwordHash");
    expect(res.text).not.toContain("argon2");

    const me = await env.api.get("/me", body.accessToken);
    expectStatus(me, 200);
    expect((me.body as { user: WireUser }).user).toEqual(body.user);
  });

  test("duplicate username and email are 409, case-insensitively, and create nothing", async () => {
    const a = await signup(env.api, "dup");
    const sameName = await env.api.post("/auth/signup", {
      username: a.user.username.toUpperCase(),
      email: "other-address@example.test",
      password: "a long enough password",
    });
    expectError(sameName, "USERNAME_TAKEN");
    const sameEmail = await env.api.post("/auth/signup", {
      username: uniqueName("other"),
      email: a.user.email?.toUpperCase(),
      password: "a long enough password",
    });
    expectError(sameEmail, "EMAIL_TAKEN");
    // The rejected signups left nothing behind: their password does not log in anywhere.
    expectError(
      await env.api.post("/auth/login", {
        login: "other-address@example.test",
        password: "a long enough password",
      }),
      "INVALID_CREDENTIALS",
    );
  });

  test("weak passwords are 422, bad usernames and emails 400", async () => {
    const username = uniqueName("weak");
    expectError(
      await env.api.post("/auth/signup", { username, email: `${username}@x.test`, password: "short" }),
      "WEAK_PASSWORD",
    );
    expectError(
      await env.api.post("/auth/signup", { username, email: `${username}@x.test`, password: username }),
      "WEAK_PASSWORD",
    );
    expectError(
      await env.api.post("/auth/signup", {
        username: "no spaces allowed",
        email: "n@x.test",
        password: "long enough pw",
      }),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.post("/auth/signup", {
        username: uniqueName("mail"),
        email: "not-an-email",
        password: "long enough pw",
      }),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.post("/auth/login", { login: username, password: "short" }),
      "INVALID_CREDENTIALS",
    );
  });

  test("login by username or email, case-insensitively; wrong password and unknown login look the same", async () => {
    const a = await signup(env.api, "log");
    const byName = await login(env.api, a.user.username.toUpperCase(), a.password);
    expect(byName.user.id).toBe(a.user.id);
    const byEmail = await login(env.api, a.user.email ?? "", a.password);
    expect(byEmail.user.id).toBe(a.user.id);
    expect(byEmail.sessionId).not.toBe(a.sessionId);

    const wrong = expectError(
      await env.api.post("/auth/login", { login: a.user.username, password: "wrong password" }),
      "INVALID_CREDENTIALS",
    );
    const unknown = expectError(
      await env.api.post("/auth/login", { login: uniqueName("ghost"), password: "wrong password" }),
      "INVALID_CREDENTIALS",
    );
    expect(wrong.message).toBe(unknown.message);
  });

  test("PATCH /me changes the display name; blank or oversized names are refused and change nothing", async () => {
    const a = await signup(env.api, "me");
    const res = await env.api.patch("/me", { displayName: "  New Name  " }, a.accessToken);
    expectStatus(res, 200);
    expect((res.body as { user: WireUser }).user.displayName).toBe("New Name");
    expectError(await env.api.patch("/me", { displayName: "   " }, a.accessToken), "VALIDATION_FAILED");
    expectError(
      await env.api.patch("/me", { displayName: "x".repeat(65) }, a.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.patch("/me", { email: "new@example.test" }, a.accessToken),
      "VALIDATION_FAILED",
    );
    const me = await env.api.get("/me", a.accessToken);
    expect((me.body as { user: WireUser }).user).toMatchObject({
      displayName: "New Name",
      email: a.user.email,
    });
  });
});

describe("bearer authentication", () => {
  test("missing, malformed or forged tokens are 401 UNAUTHENTICATED with a Bearer challenge", async () => {
    const a = await signup(env.api, "tok");
    const missing = await env.api.get("/me");
    expectError(missing, "UNAUTHENTICATED");
    expect(missing.headers.get("www-authenticate")).toStartWith("Bearer");

    const wrongScheme = await env.api.request("GET", "/me", {
      headers: { authorization: `Basic ${a.accessToken}` },
    });
    expectError(wrongScheme, "UNAUTHENTICATED");

    const [h, p] = a.accessToken.split(".");
    const forged = await env.api.get("/me", `${h}.${p}.${"A".repeat(43)}`);
    expectError(forged, "UNAUTHENTICATED");
    expect(forged.headers.get("www-authenticate")).toContain('error="invalid_token"');

    // alg "none" with the same claims must not pass (RFC 8725).
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replaceAll("=", "")}.${p}.`;
    expectError(await env.api.get("/me", none), "UNAUTHENTICATED");
  });
});

describe("refresh tokens", () => {
  test("rotate on every use; the old token is spent", async () => {
    const a = await signup(env.api, "ref");
    const r1 = await env.api.post("/auth/refresh", { refreshToken: a.refreshToken });
    expectStatus(r1, 200);
    const t1 = r1.body as {
      accessToken: string;
      refreshToken: string;
      sessionId: string;
      accessTokenExpiresIn: number;
    };
    expect(t1.sessionId).toBe(a.sessionId);
    expect(t1.refreshToken).not.toBe(a.refreshToken);
    expect(t1.accessTokenExpiresIn).toBeGreaterThan(0);
    expectStatus(await env.api.get("/me", t1.accessToken), 200);

    const r2 = await env.api.post("/auth/refresh", { refreshToken: t1.refreshToken });
    expectStatus(r2, 200);
    expectError(
      await env.api.post("/auth/refresh", { refreshToken: "not-a-token" }),
      "INVALID_REFRESH_TOKEN",
    );
  });

  test("reusing a rotated token revokes the whole session: the new refresh and access tokens die too", async () => {
    const a = await signup(env.api, "reuse");
    await rotateThenReuse(env.api, a.refreshToken);
    expectError(await env.api.get("/me", a.accessToken), "SESSION_REVOKED");
    // Other sessions of the same user are untouched.
    const other = await login(env.api, a.user.username, a.password);
    expectStatus(await env.api.get("/me", other.accessToken), 200);
  });

  test("concurrent use of one refresh token: at most one rotation wins", async () => {
    const a = await signup(env.api, "race");
    const results = await Promise.all(
      Array.from({ length: 5 }, () => env.api.post("/auth/refresh", { refreshToken: a.refreshToken })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(["REFRESH_TOKEN_REUSED", "INVALID_REFRESH_TOKEN"]).toContain(
        (r.body as { error: { code: string } }).error.code,
      );
    }
  });
});

describe("logout, sessions, password change", () => {
  test("logout ends the access token's session at once", async () => {
    const a = await signup(env.api, "out");
    const res = await env.api.post("/auth/logout", undefined, a.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe("");
    expectError(await env.api.get("/me", a.accessToken), "SESSION_REVOKED");
    expectError(
      await env.api.post("/auth/refresh", { refreshToken: a.refreshToken }),
      "INVALID_REFRESH_TOKEN",
    );
    expectError(await env.api.post("/auth/logout", undefined, a.accessToken), "SESSION_REVOKED");
  });

  test("sessions are listed with the current one marked, and can be revoked one by one", async () => {
    const a = await signup(env.api, "sess");
    const b = await env.api.request("POST", "/auth/login", {
      body: { login: a.user.username, password: a.password },
      headers: { "user-agent": "Parley-Test-Agent/2" },
    });
    expectStatus(b, 200);
    const second = b.body as Account;

    const list = await env.api.get("/auth/sessions", a.accessToken);
    expectStatus(list, 200);
    const sessions = (list.body as { sessions: Array<Record<string, unknown>> }).sessions;
    expect(sessions.map((s) => s.id).sort()).toEqual([a.sessionId, second.sessionId].sort());
    const mine = sessions.find((s) => s.id === a.sessionId);
    const theirs = sessions.find((s) => s.id === second.sessionId);
    expect(mine?.current).toBe(true);
    expect(theirs).toMatchObject({ current: false, userAgent: "Parley-Test-Agent/2", ip: "127.0.0.1" });
    expect(Object.keys(mine ?? {}).sort()).toEqual([
      "createdAt",
      "current",
      "expiresAt",
      "id",
      "ip",
      "lastUsedAt",
      "userAgent",
    ]);

    expectStatus(await env.api.del(`/auth/sessions/${second.sessionId}`, a.accessToken), 204);
    expectError(await env.api.get("/me", second.accessToken), "SESSION_REVOKED");
    expectError(await env.api.del(`/auth/sessions/${second.sessionId}`, a.accessToken), "SESSION_NOT_FOUND");
    expectError(await env.api.del(`/auth/sessions/${UNKNOWN_ID}`, a.accessToken), "SESSION_NOT_FOUND");
    expectError(await env.api.del("/auth/sessions/not-an-id", a.accessToken), "INVALID_ID");

    // Someone else's session is "not found" to me, and stays alive.
    const c = await signup(env.api, "sess");
    expectError(await env.api.del(`/auth/sessions/${c.sessionId}`, a.accessToken), "SESSION_NOT_FOUND");
    expectStatus(await env.api.get("/me", c.accessToken), 200);
  });

  test("a password change revokes every other session and keeps this one", async () => {
    const a = await signup(env.api, "pwd");
    const other = await login(env.api, a.user.username, a.password);
    const newPassword = "a brand new password";

    expectError(
      await env.api.post("/auth/password", { currentPassword: "wrong", newPassword }, a.accessToken),
      "WRONG_PASSWORD",
    );
    expectError(
      await env.api.post(
        "/auth/password",
        { currentPassword: a.password, newPassword: "short" },
        a.accessToken,
      ),
      "WEAK_PASSWORD",
    );
    // Neither rejected attempt changed anything.
    expectStatus(await env.api.get("/me", other.accessToken), 200);
    await login(env.api, a.user.username, a.password);

    expectStatus(
      await env.api.post("/auth/password", { currentPassword: a.password, newPassword }, a.accessToken),
      204,
    );
    expectStatus(await env.api.get("/me", a.accessToken), 200);
    expectError(await env.api.get("/me", other.accessToken), "SESSION_REVOKED");
    expectError(
      await env.api.post("/auth/refresh", { refreshToken: other.refreshToken }),
      "INVALID_REFRESH_TOKEN",
    );
    expectError(
      await env.api.post("/auth/login", { login: a.user.username, password: a.password }),
      "INVALID_CREDENTIALS",
    );
    await login(env.api, a.user.username, newPassword);
  });
});
