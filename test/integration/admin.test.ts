import { describe, expect, test } from "bun:test";
import {
  type Account,
  createAdmin,
  expectError,
  expectStatus,
  login,
  signup,
  UNKNOWN_ID,
  uniqueName,
  useTestServer,
  type WireUser,
} from "./helpers.ts";

const env = useTestServer();

describe("administration", () => {
  test("admin routes are 403 FORBIDDEN for users, whatever the input", async () => {
    const u = await signup(env.api, "plain");
    expectError(await env.api.get("/admin/users", u.accessToken), "FORBIDDEN");
    expectError(await env.api.get("/admin/users?limit=abc", u.accessToken), "FORBIDDEN");
    expectError(
      await env.api.patch(`/admin/users/${u.user.id}`, { role: "admin" }, u.accessToken),
      "FORBIDDEN",
    );
    expectError(await env.api.patch("/admin/users/bad-id", { role: "admin" }, u.accessToken), "FORBIDDEN");
    expect((await env.api.get("/me", u.accessToken)).body).toMatchObject({ user: { role: "user" } });
    expectError(await env.api.get("/admin/users"), "UNAUTHENTICATED");
  });

  test("admins list accounts with emails; the directory never shows emails", async () => {
    const admin = await createAdmin(env.server, env.api);
    const u = await signup(env.api, "listed");
    const res = await env.api.get(`/admin/users?q=${u.user.username}`, admin.accessToken);
    expectStatus(res, 200);
    const page = res.body as { users: WireUser[]; nextAfter: string | null };
    expect(page.users).toEqual([u.user]);
    expect(page.nextAfter).toBeNull();

    const dir = await env.api.get(`/users?q=${u.user.username}`, admin.accessToken);
    expectStatus(dir, 200);
    const users = (dir.body as { users: WireUser[] }).users;
    expect(users).toEqual([
      {
        id: u.user.id,
        username: u.user.username,
        displayName: u.user.displayName,
        role: "user",
        status: "active",
      },
    ]);
    expect(dir.text).not.toContain("@example.test");

    const one = await env.api.get(`/users/${u.user.id}`, admin.accessToken);
    expectStatus(one, 200);
    expect((one.body as { user: WireUser }).user).toEqual(users[0] as WireUser);
    expectError(await env.api.get(`/users/${UNKNOWN_ID}`, admin.accessToken), "USER_NOT_FOUND");
    expectError(await env.api.get("/users/lowercase-not-an-id", admin.accessToken), "INVALID_ID");
  });

  test("directory pages read past deactivated accounts: a short page is the end, never a hole", async () => {
    const admin = await createAdmin(env.server, env.api);
    const prefix = uniqueName("pg").slice(0, 10);
    const made: Account[] = [];
    for (let i = 0; i < 7; i++) made.push(await signup(env.api, `${prefix}${i}`));
    // Deactivate every other account: the active ones are spread across the store's pages.
    for (const u of made.filter((_, i) => i % 2 === 0)) {
      expectStatus(
        await env.api.patch(`/admin/users/${u.user.id}`, { status: "deactivated" }, admin.accessToken),
        200,
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res = await env.api.get(
        `/users?q=${prefix}&limit=2${after ? `&after=${after}` : ""}`,
        admin.accessToken,
      );
      expectStatus(res, 200);
      const page = res.body as { users: WireUser[]; nextAfter: string | null };
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u) => u.id));
      after = page.nextAfter;
      if (after === null) break;
    }
    expect(seen).toEqual(made.filter((_, i) => i % 2 === 1).map((u) => u.user.id));
  });

  test("deactivation ends every session; the user can neither log in nor refresh until reactivated", async () => {
    const admin = await createAdmin(env.server, env.api);
    const u = await signup(env.api, "deact");
    const res = await env.api.patch(
      `/admin/users/${u.user.id}`,
      { status: "deactivated" },
      admin.accessToken,
    );
    expectStatus(res, 200);
    expect((res.body as { user: WireUser }).user.status).toBe("deactivated");

    expectError(await env.api.get("/me", u.accessToken), "SESSION_REVOKED");
    expectError(
      await env.api.post("/auth/refresh", { refreshToken: u.refreshToken }),
      "INVALID_REFRESH_TOKEN",
    );
    expectError(
      await env.api.post("/auth/login", { login: u.user.username, password: u.password }),
      "ACCOUNT_DEACTIVATED",
    );
    // A wrong password says nothing about the account's state.
    expectError(
      await env.api.post("/auth/login", { login: u.user.username, password: "wrong password" }),
      "INVALID_CREDENTIALS",
    );
    // Gone from the directory, still visible to admins.
    const dir = await env.api.get(`/users?q=${u.user.username}`, admin.accessToken);
    expect((dir.body as { users: WireUser[] }).users).toEqual([]);

    expectStatus(
      await env.api.patch(`/admin/users/${u.user.id}`, { status: "active" }, admin.accessToken),
      200,
    );
    await login(env.api, u.user.username, u.password);
  });

  test("roles change; an admin cannot demote or deactivate themselves (so the last one never can); bad input changes nothing", async () => {
    const admin = await createAdmin(env.server, env.api);
    const u = await signup(env.api, "promo");
    const promoted = await env.api.patch(`/admin/users/${u.user.id}`, { role: "agent" }, admin.accessToken);
    expectStatus(promoted, 200);
    expect((promoted.body as { user: WireUser }).user.role).toBe("agent");

    expectError(
      await env.api.patch(`/admin/users/${admin.user.id}`, { role: "user" }, admin.accessToken),
      "INVALID_OPERATION",
    );
    expectError(
      await env.api.patch(`/admin/users/${admin.user.id}`, { status: "deactivated" }, admin.accessToken),
      "INVALID_OPERATION",
    );
    expectError(
      await env.api.patch(`/admin/users/${u.user.id}`, { role: "superuser" }, admin.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.patch(`/admin/users/${u.user.id}`, { role: "user", extra: 1 }, admin.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.patch(`/admin/users/${UNKNOWN_ID}`, { role: "user" }, admin.accessToken),
      "USER_NOT_FOUND",
    );
    expectError(await env.api.patch("/admin/users/xyz", { role: "user" }, admin.accessToken), "INVALID_ID");

    const me = await env.api.get("/me", admin.accessToken);
    expect((me.body as { user: WireUser }).user).toMatchObject({ role: "admin", status: "active" });
    const after = await env.api.get(`/users/${u.user.id}`, admin.accessToken);
    expect((after.body as { user: WireUser }).user.role).toBe("agent");
  });

  test("an admin who promotes a second admin may then be demoted by them", async () => {
    const first = await createAdmin(env.server, env.api);
    const u = await signup(env.api, "second");
    expectStatus(await env.api.patch(`/admin/users/${u.user.id}`, { role: "admin" }, first.accessToken), 200);
    const second = await login(env.api, u.user.username, u.password);
    expectStatus(
      await env.api.patch(`/admin/users/${first.user.id}`, { role: "user" }, second.accessToken),
      200,
    );
    // The demotion takes effect on the next request: role is read from the store, not the token.
    expectError(await env.api.get("/admin/users", first.accessToken), "FORBIDDEN");
  });

  test("admin list pages by id cursor", async () => {
    const admin = await createAdmin(env.server, env.api);
    const prefix = uniqueName("pg");
    for (let i = 0; i < 3; i++) {
      expectStatus(
        await env.api.post("/auth/signup", {
          username: `${prefix}${i}`,
          email: `${prefix}${i}@example.test`,
          password: "long enough pw",
        }),
        201,
      );
    }
    const p1 = await env.api.get(`/admin/users?q=${prefix}&limit=2`, admin.accessToken);
    const page1 = p1.body as { users: WireUser[]; nextAfter: string | null };
    expect(page1.users).toHaveLength(2);
    expect(page1.nextAfter).toBe(page1.users[1]?.id ?? "missing");
    const p2 = await env.api.get(
      `/admin/users?q=${prefix}&limit=2&after=${page1.nextAfter}`,
      admin.accessToken,
    );
    const page2 = p2.body as { users: WireUser[]; nextAfter: string | null };
    expect(page2.users).toHaveLength(1);
    expect(page2.nextAfter).toBeNull();
    expect(new Set([...page1.users, ...page2.users].map((u) => u.username))).toEqual(
      new Set([`${prefix}0`, `${prefix}1`, `${prefix}2`]),
    );
    expectError(await env.api.get("/admin/users?after=nope", admin.accessToken), "INVALID_CURSOR");
    expectError(await env.api.get("/admin/users?limit=0", admin.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.get("/admin/users?limit=101", admin.accessToken), "VALIDATION_FAILED");
  });
});
