import { describe, expect, test } from "bun:test";
import pino from "pino";
import { AppError } from "../domain/errors.ts";
import type { ClientInfo } from "../services/auth-service.ts";
import type { Services } from "../services/services.ts";
import { createHttpApp, type HttpDeps } from "./app.ts";
import { isJsonContentType, jsonDepthExceeds } from "./json-body.ts";

/** A logger whose lines land in an array, to check what is (and is not) logged. */
function capturingLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => raw.push(s) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/**
 * Only the members a test touches are provided; reaching any other is a test bug and fails loudly, because the
 * stub is a Proxy that throws on unknown services.
 */
function stubServices(parts: Record<string, unknown>): Services {
  return new Proxy(parts, {
    get(target, key) {
      if (typeof key === "string" && key in target) return target[key];
      throw new Error(`stub has no service ${String(key)}`);
    },
  }) as unknown as Services;
}

function app(overrides: Partial<HttpDeps> & Pick<HttpDeps, "services">) {
  return createHttpApp({
    logger: pino({ level: "silent" }),
    bodyLimitBytes: 1024,
    trustProxy: false,
    ready: async () => {},
    ...overrides,
  });
}

const principal = {
  userId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  sessionId: "01ARZ3NDEKTSV4RRFFQ69G5FAW",
  role: "user" as const,
};

describe("unexpected faults", () => {
  test("are 500 INTERNAL with a generic message; the cause is logged with the request id, never sent", async () => {
    const { logger, lines } = capturingLogger();
    const services = stubServices({
      auth: { authenticate: async () => principal },
      users: {
        me: async () => {
          throw new Error('relation "users" does not exist: SELECT password_hash FROM users');
        },
      },
    });
    const res = await app({ services, logger }).request("/api/v1/me", {
      headers: { authorization: "Bearer x.y.z", "x-request-id": "req-42" },
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: "INTERNAL", message: "An unexpected error occurred." },
    });
    expect(text).not.toContain("SELECT");
    expect(res.headers.get("x-request-id")).toBe("req-42");

    const fault = lines().find((l) => l.msg === "unhandled error");
    expect(fault?.requestId).toBe("req-42");
    expect(JSON.stringify(fault?.err)).toContain("relation");
    const access = lines().find((l) => l.msg === "request");
    expect(access).toMatchObject({ requestId: "req-42", method: "GET", route: "/api/v1/me", status: 500 });
    expect(typeof access?.durationMs).toBe("number");
  });

  test("the access log names the route pattern, never ids, queries, bodies or tokens", async () => {
    const { logger, lines } = capturingLogger();
    const services = stubServices({
      auth: { authenticate: async () => principal },
      rooms: {
        update: async () => {
          throw new AppError("ROOM_NOT_FOUND");
        },
      },
    });
    const roomId = "01ARZ3NDEKTSV4RRFFQ69G5FAX";
    const res = await app({ services, logger }).request(`/api/v1/rooms/${roomId}?secret=q`, {
      method: "PATCH",
      headers: { authorization: "Bearer tok.en.value", "content-type": "application/json" },
      body: JSON.stringify({ name: "hidden-name" }),
    });
    expect(res.status).toBe(404);
    const all = JSON.stringify(lines());
    expect(all).toContain("/api/v1/rooms/:roomId");
    for (const leak of [roomId, "secret=q", "hidden-name", "tok.en.value"]) expect(all).not.toContain(leak);
  });
});

describe("/readyz", () => {
  test("is 503 UNAVAILABLE with Retry-After when the store does not answer", async () => {
    const res = await app({
      services: stubServices({}),
      ready: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      },
    }).request("/readyz");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.message).not.toContain("ECONNREFUSED");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("is 503 also when ready() throws synchronously", async () => {
    const res = await app({
      services: stubServices({}),
      ready: () => {
        throw new Error("sync");
      },
    }).request("/readyz");
    expect(res.status).toBe(503);
  });
});

describe("client address", () => {
  async function signupIp(trustProxy: boolean, forwardedFor: string): Promise<ClientInfo> {
    let seen: ClientInfo | undefined;
    const services = stubServices({
      auth: {
        signup: async (_input: unknown, client: ClientInfo) => {
          seen = client;
          throw new AppError("USERNAME_TAKEN");
        },
      },
    });
    await app({ services, trustProxy }).request("/api/v1/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor, "user-agent": "UA/1" },
      body: JSON.stringify({ username: "someone", email: "s@x.io", password: "long enough" }),
    });
    if (!seen) throw new Error("signup not reached");
    return seen;
  }

  test("X-Forwarded-For is ignored unless trustProxy; then its right-most entry is used", async () => {
    expect(await signupIp(false, "203.0.113.9")).toEqual({ ip: null, userAgent: "UA/1" });
    expect((await signupIp(true, "1.1.1.1, 203.0.113.9")).ip).toBe("203.0.113.9");
    expect((await signupIp(true, "2001:db8::1")).ip).toBe("2001:db8::1");
    // Garbage in the header is not an address.
    expect((await signupIp(true, "<script>")).ip).toBeNull();
  });
});

describe("JSON gate", () => {
  test("content types", () => {
    for (const ok of [
      "application/json",
      "Application/JSON",
      "application/json; charset=utf-8",
      "application/problem+json",
    ]) {
      expect({ ok, accepted: isJsonContentType(ok) }).toEqual({ ok, accepted: true });
    }
    for (const bad of [
      "text/json",
      "application/jsonx",
      "application/json; charset=utf-16",
      "text/plain",
      "",
    ]) {
      expect({ bad, accepted: isJsonContentType(bad) }).toEqual({ bad, accepted: false });
    }
  });

  test("depth is counted outside strings only", () => {
    expect(jsonDepthExceeds("[[[]]]", 3)).toBe(false);
    expect(jsonDepthExceeds("[[[[]]]]", 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[","b":{"c":[]}}', 3)).toBe(false);
    expect(jsonDepthExceeds('["\\"[[[[", [[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('["\\\\", [[]]]', 3)).toBe(false);
  });
});
