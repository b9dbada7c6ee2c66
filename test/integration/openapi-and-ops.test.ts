import { beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ERROR_CATALOG } from "../../src/domain/errors.ts";
import { UNREAD_COUNT_MAX } from "../../src/domain/rules.ts";
import { expectError, expectStatus, signup, UNKNOWN_ID, useTestServer } from "./helpers.ts";

const env = useTestServer();

interface Operation {
  security?: Array<Record<string, unknown>>;
  responses: Record<string, { content?: { "application/json"?: { schema?: { $ref?: string } } } }>;
  requestBody?: { content: { "application/json": { schema: { $ref?: string } } } };
  parameters?: Array<{ name: string; in: string }>;
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { additionalProperties?: boolean }>;
    securitySchemes: Record<string, unknown>;
  };
}

const PUBLIC = new Set([
  "POST /api/v1/auth/signup",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/refresh",
  "GET /healthz",
  "GET /readyz",
]);

const EXPECTED_ROUTES = [
  "POST /api/v1/auth/signup",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/refresh",
  "POST /api/v1/auth/logout",
  "POST /api/v1/auth/password",
  "GET /api/v1/auth/sessions",
  "DELETE /api/v1/auth/sessions/{sessionId}",
  "GET /api/v1/me",
  "PATCH /api/v1/me",
  "GET /api/v1/users",
  "GET /api/v1/users/{userId}",
  "GET /api/v1/admin/users",
  "PATCH /api/v1/admin/users/{userId}",
  "GET /api/v1/rooms",
  "POST /api/v1/rooms",
  "POST /api/v1/dms",
  "GET /api/v1/rooms/{roomId}",
  "PATCH /api/v1/rooms/{roomId}",
  "GET /api/v1/rooms/{roomId}/members",
  "POST /api/v1/rooms/{roomId}/members",
  "DELETE /api/v1/rooms/{roomId}/members/{userId}",
  "POST /api/v1/rooms/{roomId}/owner",
  "GET /api/v1/rooms/{roomId}/messages",
  "POST /api/v1/rooms/{roomId}/messages",
  "GET /api/v1/rooms/{roomId}/messages/{messageId}",
  "PATCH /api/v1/rooms/{roomId}/messages/{messageId}",
  "DELETE /api/v1/rooms/{roomId}/messages/{messageId}",
  "POST /api/v1/rooms/{roomId}/read",
  "GET /api/v1/rooms/{roomId}/presence",
  "GET /api/v1/rooms/{roomId}/presence/count",
  "GET /api/v1/search/messages",
  "GET /healthz",
  "GET /readyz",
];

describe("OpenAPI document", () => {
  let doc: OpenApiDoc;
  beforeAll(async () => {
    const res = await env.api.get("/openapi.json");
    expectStatus(res, 200);
    doc = res.body as OpenApiDoc;
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );

  test("is OpenAPI 3 with a bearer scheme and every route", () => {
    expect(doc.openapi).toStartWith("3.");
    expect(doc.info.title).toBe("Parley");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(
      operations()
        .map((o) => o.key)
        .sort(),
    ).toEqual([...EXPECTED_ROUTES].sort());
  });

  test("every protected route declares bearer security and 401; public ones declare none", () => {
    for (const { key, op } of operations()) {
      if (PUBLIC.has(key)) {
        expect({ key, security: op.security }).toEqual({ key, security: undefined });
      } else {
        expect({ key, security: op.security }).toEqual({ key, security: [{ bearerAuth: [] }] });
        expect({ key, has401: "401" in op.responses }).toEqual({ key, has401: true });
      }
    }
  });

  test("every route declares its error responses with the shared Error schema", () => {
    expect(doc.components.schemas.Error).toBeDefined();
    for (const { key, op } of operations()) {
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      expect({ key, declared: errors.length > 0 }).toEqual({ key, declared: true });
      for (const [, response] of errors) {
        expect(response.content?.["application/json"]?.schema?.$ref).toBe("#/components/schemas/Error");
      }
      expect({ key, has500: "500" in op.responses }).toEqual({ key, has500: true });
    }
  });

  test("every unreadCount is documented as capped at UNREAD_COUNT_MAX", () => {
    for (const name of ["RoomSummary", "ReadState"]) {
      const schema = doc.components.schemas[name] as {
        properties?: { unreadCount?: { maximum?: number; description?: string } };
      };
      const unread = schema.properties?.unreadCount;
      expect({ name, maximum: unread?.maximum }).toEqual({ name, maximum: UNREAD_COUNT_MAX });
      expect(unread?.description).toContain(`"${UNREAD_COUNT_MAX} or more"`);
    }
  });

  test("request bodies are strict objects", () => {
    for (const { key, op } of operations()) {
      const ref = op.requestBody?.content["application/json"].schema.$ref;
      if (ref === undefined) continue;
      const schema = doc.components.schemas[ref.replace("#/components/schemas/", "")];
      expect({ key, strict: schema?.additionalProperties }).toEqual({ key, strict: false });
    }
  });

  test("every documented route is served: none answers NOT_FOUND or METHOD_NOT_ALLOWED", async () => {
    for (const { key } of operations()) {
      const [method = "", path = ""] = key.split(" ");
      const concrete = path.replace(/\{[^}]+\}/g, UNKNOWN_ID);
      const res = await env.api.request(
        method,
        `/${concrete}`,
        method === "GET" || method === "DELETE" ? {} : { body: {} },
      );
      const code = (res.body as { error?: { code: string } } | null)?.error?.code;
      expect({ key, code }).not.toEqual({ key, code: "NOT_FOUND" });
      expect({ key, status: res.status }).not.toEqual({ key, status: 405 });
    }
  });
});

describe("operations and fallbacks", () => {
  test("/healthz and /readyz answer at the root", async () => {
    const health = await env.api.get("//healthz");
    expectStatus(health, 200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await env.api.get("//readyz");
    expectStatus(ready, 200);
  });

  test("unknown routes are NOT_FOUND; a wrong method is METHOD_NOT_ALLOWED with Allow", async () => {
    expectError(await env.api.get("/no-such-route"), "NOT_FOUND");
    expectError(await env.api.get("//api/v2/rooms"), "NOT_FOUND");
    const wrong = await env.api.request("PUT", "/rooms");
    expectError(wrong, "METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")?.split(", ")).toEqual(expect.arrayContaining(["GET", "POST"]));
    const wrongWithId = await env.api.request("POST", `/rooms/${UNKNOWN_ID}/messages/${UNKNOWN_ID}`);
    expectError(wrongWithId, "METHOD_NOT_ALLOWED");
    expect(wrongWithId.headers.get("allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PATCH"]);
  });

  test("x-request-id is echoed when sane and generated otherwise", async () => {
    const echoed = await env.api.request("GET", "/me", { headers: { "x-request-id": "trace-123.abc" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-123.abc");
    const generated = await env.api.request("GET", "/me", {
      headers: { "x-request-id": "bad id with spaces\u00e9" },
    });
    const id = generated.headers.get("x-request-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const other = await env.api.get("/me");
    expect(other.headers.get("x-request-id")).not.toBe(id);
  });

  test("responses are JSON with camelCase keys and no password material anywhere", async () => {
    const a = await signup(env.api, "shape");
    const me = await env.api.get("/me", a.accessToken);
    expect(me.headers.get("content-type")).toStartWith("application/json");
    expect(Object.keys((me.body as { user: object }).user).sort()).toEqual([
      "createdAt",
      "displayName",
      "email",
      "id",
      "role",
      "status",
      "username",
    ]);
    expect(me.text).not.toMatch(/password|_/i);
  });
});

describe("docs/errors.md", () => {
  test("lists every catalog code with its status and text", async () => {
    const md = await readFile(join(import.meta.dir, "../../docs/errors.md"), "utf8");
    for (const [code, { status, text }] of Object.entries(ERROR_CATALOG)) {
      expect(md).toContain(`| \`${code}\` | ${status} | ${text} |`);
    }
    const documented = [...md.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
  });
});
