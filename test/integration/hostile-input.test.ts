import { beforeAll, describe, expect, test } from "bun:test";
import {
  type Account,
  createRoom,
  expectError,
  expectStatus,
  fullHistory,
  send,
  signup,
  useTestServer,
  type WireRoom,
  type WireUser,
} from "./helpers.ts";

let alice: Account;
let room: WireRoom;

const env = useTestServer();
beforeAll(async () => {
  alice = await signup(env.api, "hostile");
  room = await createRoom(env.api, alice, "Target");
  await send(env.api, alice, room.id, "baseline");
});

/** Everything a rejected write could have touched, read back through the API. */
async function snapshot(): Promise<unknown> {
  const [me, details, rooms] = await Promise.all([
    env.api.get("/me", alice.accessToken),
    env.api.get(`/rooms/${room.id}`, alice.accessToken),
    env.api.get("/rooms", alice.accessToken),
  ]);
  return {
    me: me.body,
    details: details.body,
    rooms: rooms.body,
    history: await fullHistory(env.api, alice, room.id),
  };
}

/** Runs `reject`, expects it refused, and checks that nothing visible changed. */
async function refusedWithoutEffect(reject: () => Promise<void>): Promise<void> {
  const before = await snapshot();
  await reject();
  expect(await snapshot()).toEqual(before);
}

const PAYLOADS = [
  "'; DROP TABLE messages; --",
  "Robert'); DELETE FROM users WHERE ('1'='1",
  "<script>alert('x')</script><img src=x onerror=alert(1)>",
  '{"json": "inside", "a": [1, 2]}',
  "\\u0000 is not a NUL, and neither is \\0",
  "émoji 😀 👩‍👩‍👧 RTL \u202e gnirts and zero\u200bwidth",
  "%s %n %x $" + "{7*7} {{7*7}} $(rm -rf /)",
  "line\nbreaks\r\nand\ttabs",
];

describe("hostile text is stored inert and returned byte-for-byte", () => {
  test("messages", async () => {
    for (const text of PAYLOADS) {
      const m = await send(env.api, alice, room.id, text);
      expect(m.message).toBe(text);
      const back = await env.api.get(`/rooms/${room.id}/messages/${m.id}`, alice.accessToken);
      expect((back.body as { message: string }).message).toBe(text);
    }
    const stored = await fullHistory(env.api, alice, room.id);
    expect(stored.slice(-PAYLOADS.length).map((m) => m.message)).toEqual(PAYLOADS);
    // The tables the payloads name are still there.
    expectStatus(await env.api.get("/me", alice.accessToken), 200);
  });

  test("room names, topics, display names, and search", async () => {
    for (const text of PAYLOADS) {
      const res = await env.api.post("/rooms", { name: text.slice(0, 100), topic: text }, alice.accessToken);
      expectStatus(res, 201);
      const r = (res.body as { room: WireRoom }).room;
      expect(r.topic).toBe(text.trim());
      const details = await env.api.get(`/rooms/${r.id}`, alice.accessToken);
      expect((details.body as { room: WireRoom }).room.name).toBe(text.slice(0, 100).trim());
    }
    const name = "<b>Bobby</b> '; --";
    const me = await env.api.patch("/me", { displayName: name }, alice.accessToken);
    expect((me.body as { user: WireUser }).user.displayName).toBe(name);
    for (const q of ["'; DROP TABLE messages; --", "<script>", "a' OR '1'='1", "\\", "%", "_"]) {
      const res = await env.api.get(`/search/messages?q=${encodeURIComponent(q)}`, alice.accessToken);
      expectStatus(res, 200);
    }
    const dir = await env.api.get(`/users?q=${encodeURIComponent("%' OR 1=1 --")}`, alice.accessToken);
    expectStatus(dir, 200);
    expect((dir.body as { users: unknown[] }).users).toEqual([]);
  });
});

describe("malformed requests are refused and change nothing", () => {
  test("a 10 MB body is 413 without being read", async () => {
    await refusedWithoutEffect(async () => {
      const big = JSON.stringify({ message: "x".repeat(10 * 1024 * 1024) });
      const res = await env.api.request("POST", `/rooms/${room.id}/messages`, {
        raw: big,
        token: alice.accessToken,
      });
      expectError(res, "PAYLOAD_TOO_LARGE");
    });
  });

  test("a body just over the limit is 413 even when streamed without Content-Length", async () => {
    await refusedWithoutEffect(async () => {
      const limit = env.server.config.bodyLimitBytes;
      const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > limit + chunk.length) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await fetch(`${env.server.api}/rooms/${room.id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${alice.accessToken}` },
        body: stream,
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    });
  });

  test("invalid UTF-8 is MALFORMED_JSON", async () => {
    await refusedWithoutEffect(async () => {
      const prefix = new TextEncoder().encode('{"message": "bad ');
      const suffix = new TextEncoder().encode('"}');
      for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
        const body = new Uint8Array([...prefix, ...bad, ...suffix]);
        const res = await env.api.request("POST", `/rooms/${room.id}/messages`, {
          raw: body,
          token: alice.accessToken,
        });
        expectError(res, "MALFORMED_JSON");
      }
    });
  });

  test("broken JSON, empty bodies, and deep nesting are 400", async () => {
    await refusedWithoutEffect(async () => {
      for (const raw of [
        '{"message": "unterminated',
        "",
        "{message: 'single'}",
        '{"message": "a"} trailing',
        "NaN",
      ]) {
        const res = await env.api.request("POST", `/rooms/${room.id}/messages`, {
          raw,
          token: alice.accessToken,
        });
        expectError(res, "MALFORMED_JSON");
      }
      const deep = `${'{"a":'.repeat(40)}1${"}".repeat(40)}`;
      const tooDeep = expectError(
        await env.api.request("POST", `/rooms/${room.id}/messages`, { raw: deep, token: alice.accessToken }),
        "VALIDATION_FAILED",
      );
      expect(tooDeep.details).toEqual([{ path: "", message: expect.stringContaining("nested deeper") }]);
      const deepArray = `{"message": "x", "clientMsgId": ${"[".repeat(5000)}${"]".repeat(5000)}}`;
      expectError(
        await env.api.request("POST", `/rooms/${room.id}/messages`, {
          raw: deepArray,
          token: alice.accessToken,
        }),
        "VALIDATION_FAILED",
      );
    });
    // Brackets inside strings are text, not nesting; nesting up to the limit is only a schema question.
    const brackets = await env.api.post(
      `/rooms/${room.id}/messages`,
      { message: '[{"\\"'.repeat(100) },
      alice.accessToken,
    );
    expectStatus(brackets, 201);
    expect((brackets.body as { message: string }).message).toBe('[{"\\"'.repeat(100));
    const nested = `{"message": "x", "clientMsgId": ${"[".repeat(31)}${"]".repeat(31)}}`;
    const shallowEnough = expectError(
      await env.api.request("POST", `/rooms/${room.id}/messages`, { raw: nested, token: alice.accessToken }),
      "VALIDATION_FAILED",
    );
    expect(shallowEnough.details).toEqual([{ path: "clientMsgId", message: expect.any(String) }]);
  });

  test("non-JSON content types are 415", async () => {
    await refusedWithoutEffect(async () => {
      const body = JSON.stringify({ message: "typed wrong" });
      for (const contentType of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
        null,
      ]) {
        const res = await env.api.request("POST", `/rooms/${room.id}/messages`, {
          raw: body,
          contentType,
          token: alice.accessToken,
        });
        expectError(res, "UNSUPPORTED_MEDIA_TYPE");
      }
      const form = await env.api.request("PATCH", "/me", {
        raw: "displayName=x",
        contentType: "multipart/form-data",
        token: alice.accessToken,
      });
      expectError(form, "UNSUPPORTED_MEDIA_TYPE");
    });
    // Parameters that say UTF-8 are fine.
    const ok = await env.api.request("POST", `/rooms/${room.id}/messages`, {
      raw: JSON.stringify({ message: "charset given" }),
      contentType: "application/json; charset=UTF-8",
      token: alice.accessToken,
    });
    expectStatus(ok, 201);
  });

  test("wrong types, unknown fields, and non-storable text are VALIDATION_FAILED with the failing paths", async () => {
    await refusedWithoutEffect(async () => {
      const wrongType = expectError(
        await env.api.post(`/rooms/${room.id}/messages`, { message: 42 }, alice.accessToken),
        "VALIDATION_FAILED",
      );
      expect(wrongType.details).toEqual([{ path: "message", message: expect.any(String) }]);
      const unknown = expectError(
        await env.api.post(
          `/rooms/${room.id}/messages`,
          { message: "hi", senderId: alice.user.id },
          alice.accessToken,
        ),
        "VALIDATION_FAILED",
      );
      expect(unknown.details).toEqual([{ path: "senderId", message: expect.any(String) }]);
      for (const body of [
        [],
        "text",
        null,
        7,
        { message: ["a"] },
        { message: null },
        {},
        { message: "x", clientMsgId: "has space" },
      ]) {
        expectError(
          await env.api.post(`/rooms/${room.id}/messages`, body, alice.accessToken),
          "VALIDATION_FAILED",
        );
      }
      // A lone surrogate and a NUL have no place in stored text.
      for (const raw of ['{"message": "lone \\ud800 surrogate"}', '{"message": "nul \\u0000 char"}']) {
        expectError(
          await env.api.request("POST", `/rooms/${room.id}/messages`, { raw, token: alice.accessToken }),
          "VALIDATION_FAILED",
        );
      }
      expectError(
        await env.api.patch(`/rooms/${room.id}`, { name: 5 }, alice.accessToken),
        "VALIDATION_FAILED",
      );
      expectError(
        await env.api.patch(`/rooms/${room.id}`, { topic: "nul \u0000" }, alice.accessToken),
        "VALIDATION_FAILED",
      );
      expectError(
        await env.api.patch("/me", { displayName: "\ud800" }, alice.accessToken),
        "VALIDATION_FAILED",
      );
      expectError(
        await env.api.post(`/rooms/${room.id}/read`, { seq: 1, extra: true }, alice.accessToken),
        "VALIDATION_FAILED",
      );
      const signupBad = await env.api.post("/auth/signup", { username: ["x"], email: 1, password: true });
      const details = expectError(signupBad, "VALIDATION_FAILED").details as Array<{ path: string }>;
      expect(details.map((d) => d.path).sort()).toEqual(["email", "password", "username"]);
    });
  });

  test("bad ids in paths are INVALID_ID", async () => {
    await refusedWithoutEffect(async () => {
      const t = alice.accessToken;
      const m = (await fullHistory(env.api, alice, room.id))[0]?.id ?? "";
      for (const bad of [
        "1",
        "abc",
        room.id.toLowerCase(),
        `${room.id}0`,
        "01ARZ3NDEKTSV4RRFFQ69G5FAU".replace("U", "I"),
        "%27%20OR%201%3D1",
      ]) {
        expectError(await env.api.get(`/rooms/${bad}`, t), "INVALID_ID");
        expectError(await env.api.get(`/rooms/${bad}/messages`, t), "INVALID_ID");
        expectError(await env.api.post(`/rooms/${bad}/messages`, { message: "x" }, t), "INVALID_ID");
        expectError(
          await env.api.patch(`/rooms/${room.id}/messages/${bad}`, { message: "x" }, t),
          "INVALID_ID",
        );
        expectError(await env.api.del(`/rooms/${room.id}/messages/${bad}`, t), "INVALID_ID");
        expectError(await env.api.del(`/rooms/${room.id}/members/${bad}`, t), "INVALID_ID");
        expectError(await env.api.get(`/users/${bad}`, t), "INVALID_ID");
      }
      expectError(await env.api.get(`/rooms/${room.id}/messages/${m.toLowerCase()}`, t), "INVALID_ID");
    });
  });

  test("bad cursors are INVALID_CURSOR", async () => {
    const t = alice.accessToken;
    for (const path of [
      `/rooms/${room.id}/messages?before=x`,
      `/rooms/${room.id}/messages?before=0`,
      "/search/messages?q=hello&before=123",
      "/users?after=zzz",
    ]) {
      expectError(await env.api.get(path, t), "INVALID_CURSOR");
    }
  });

  test("over-long messages are 422 and stored nowhere", async () => {
    await refusedWithoutEffect(async () => {
      expectError(
        await env.api.post(`/rooms/${room.id}/messages`, { message: "y".repeat(4001) }, alice.accessToken),
        "MESSAGE_TOO_LONG",
      );
    });
  });
});
