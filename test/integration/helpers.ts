/**
 * A small HTTP client for the integration suite: every call goes over a real socket to a real server started by
 * test/support/server.ts, and answers are checked against the error catalog rather than bare status numbers.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { ERROR_CATALOG, type ErrorCode } from "../../src/domain/errors.ts";
import type { Services } from "../../src/services/services.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/server.ts";

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or null for an empty body. */
  readonly body: unknown;
  readonly text: string;
}

export interface RequestOptions {
  readonly token?: string;
  /** JSON-encoded unless `raw` is given. */
  readonly body?: unknown;
  /** Sent as is, with `contentType` (default application/json). */
  readonly raw?: string | Uint8Array<ArrayBuffer>;
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
}

export interface Client {
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  get(path: string, token?: string): Promise<ApiResponse>;
  post(path: string, body: unknown, token?: string): Promise<ApiResponse>;
  patch(path: string, body: unknown, token?: string): Promise<ApiResponse>;
  del(path: string, token?: string): Promise<ApiResponse>;
}

/** `base` is the server's /api/v1 root; paths starting with "//" are taken relative to the server root. */
export function client(base: string): Client {
  const root = new URL(base).origin;
  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && opts.contentType !== null)
      headers["content-type"] = opts.contentType ?? "application/json";
    const url = path.startsWith("//") ? `${root}${path.slice(1)}` : `${base}${path}`;
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    if (text.length > 0 && (res.headers.get("content-type") ?? "").includes("json"))
      parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    request,
    get: (path, token) => request("GET", path, { token }),
    post: (path, body, token) => request("POST", path, { body, token }),
    patch: (path, body, token) => request("PATCH", path, { body, token }),
    del: (path, token) => request("DELETE", path, { token }),
  };
}

/**
 * Starts one test server for the calling file or describe block (beforeAll) and stops it after (afterAll). The
 * returned object's `server` and `api` are read inside tests and hooks, after that beforeAll has run: never
 * destructure it where it is made.
 */
export function useTestServer(options?: TestServerOptions): {
  readonly server: TestServer;
  readonly api: Client;
} {
  let started: { server: TestServer; api: Client } | undefined;
  beforeAll(async () => {
    const server = await startTestServer(options);
    started = { server, api: client(server.api) };
  });
  afterAll(() => started?.server.stop());
  const get = () => {
    if (started === undefined)
      throw new Error("useTestServer: the test server is read before its beforeAll ran");
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get api() {
      return get().api;
    },
  };
}

/** Asserts the catalog status and the `{"error": {"code", "message"}}` shape; returns the error object. */
export function expectError(
  res: ApiResponse,
  code: ErrorCode,
): { code: string; message: string; details?: unknown } {
  const err = (res.body as { error?: { code: string; message: string; details?: unknown } } | null)?.error;
  expect({ status: res.status, code: err?.code }).toEqual({ status: ERROR_CATALOG[code].status, code });
  expect(typeof err?.message).toBe("string");
  return err as { code: string; message: string; details?: unknown };
}

export function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status)
    throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
}

export interface WireUser {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: string;
  readonly status: string;
  readonly email?: string;
  readonly createdAt?: string;
}

export interface Account {
  readonly user: WireUser;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
  readonly password: string;
}

export interface WireMessage {
  readonly id: string;
  readonly seq: number;
  readonly roomId: string;
  readonly senderId: string;
  readonly message: string | null;
  readonly clientMsgId: string | null;
  readonly createdAt: string;
  readonly editedAt: string | null;
  readonly deletedAt: string | null;
}

export interface WireRoom {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly topic: string;
  readonly ownerId: string | null;
  readonly createdAt: string;
  readonly lastSeq: number;
  readonly version: number;
}

/** Usernames unique per call, so tests sharing a server never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

export async function signup(
  api: Client,
  prefix = "user",
  extra: { displayName?: string } = {},
): Promise<Account> {
  const username = uniqueName(prefix);
  const password = `pw-${crypto.randomUUID()}`;
  const res = await api.post("/auth/signup", {
    username,
    email: `${username}@example.test`,
    password,
    ...extra,
  });
  expectStatus(res, 201);
  return { ...(res.body as Omit<Account, "password">), password };
}

export async function login(api: Client, loginName: string, password: string): Promise<Account> {
  const res = await api.post("/auth/login", { login: loginName, password });
  expectStatus(res, 200);
  return { ...(res.body as Omit<Account, "password">), password };
}

/**
 * Rotates `refreshToken` once, then presents it again: asserts the reuse is refused as REFRESH_TOKEN_REUSED and
 * that the session it revoked takes the rotated tokens with it. Returns the rotated pair.
 */
export async function rotateThenReuse(
  api: Client,
  refreshToken: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const rotated = await api.post("/auth/refresh", { refreshToken });
  expectStatus(rotated, 200);
  const next = rotated.body as { accessToken: string; refreshToken: string };
  expectError(await api.post("/auth/refresh", { refreshToken }), "REFRESH_TOKEN_REUSED");
  expectError(await api.post("/auth/refresh", { refreshToken: next.refreshToken }), "INVALID_REFRESH_TOKEN");
  expectError(await api.get("/me", next.accessToken), "SESSION_REVOKED");
  return next;
}

export async function createRoom(
  api: Client,
  owner: Account,
  name: string,
  memberIds: string[] = [],
): Promise<WireRoom> {
  const res = await api.post("/rooms", { name, memberIds }, owner.accessToken);
  expectStatus(res, 201);
  return (res.body as { room: WireRoom }).room;
}

export async function send(
  api: Client,
  who: Account,
  roomId: string,
  message: string,
  clientMsgId?: string,
): Promise<WireMessage> {
  const res = await api.post(`/rooms/${roomId}/messages`, { message, clientMsgId }, who.accessToken);
  expectStatus(res, 201);
  return res.body as WireMessage;
}

export async function history(
  api: Client,
  who: Account,
  roomId: string,
  query = "",
): Promise<{ messages: WireMessage[]; nextBefore: number | null }> {
  const res = await api.get(`/rooms/${roomId}/messages${query}`, who.accessToken);
  expectStatus(res, 200);
  return res.body as { messages: WireMessage[]; nextBefore: number | null };
}

/** Every message of a room, oldest first, following the cursor to the start. */
export async function fullHistory(api: Client, who: Account, roomId: string): Promise<WireMessage[]> {
  const all: WireMessage[] = [];
  let before: number | null = null;
  for (;;) {
    const page = await history(api, who, roomId, `?limit=100${before === null ? "" : `&before=${before}`}`);
    all.unshift(...page.messages);
    if (page.nextBefore === null) return all;
    before = page.nextBefore;
  }
}

/** A well-formed id that names nothing. */
export const UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/** Administrators are made by the create-admin path (the services), never over HTTP; then they log in normally. */
export async function createAdmin(server: { readonly services: Services }, api: Client): Promise<Account> {
  const username = uniqueName("admin");
  const password = `pw-${crypto.randomUUID()}`;
  await server.services.auth.createUser({ username, email: `${username}@example.test`, password }, "admin");
  return login(api, username, password);
}
