import { describe, expect, test } from "bun:test";
import {
  createRoom,
  expectError,
  expectStatus,
  fullHistory,
  history,
  send,
  signup,
  UNKNOWN_ID,
  useTestServer,
  type WireMessage,
} from "./helpers.ts";

const env = useTestServer();

interface SearchResult {
  hits: Array<{ message: WireMessage; roomName: string }>;
  nextBefore: string | null;
}

describe("sending", () => {
  test("a sent message comes back in full and is in history", async () => {
    const a = await signup(env.api, "snd");
    const room = await createRoom(env.api, a, "Send");
    const res = await env.api.post(`/rooms/${room.id}/messages`, { message: "hello" }, a.accessToken);
    expectStatus(res, 201);
    const m = res.body as WireMessage;
    expect(m).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      seq: 1,
      roomId: room.id,
      senderId: a.user.id,
      message: "hello",
      clientMsgId: null,
      createdAt: expect.stringMatching(/Z$/),
      editedAt: null,
      deletedAt: null,
    });
    expect((await history(env.api, a, room.id)).messages).toEqual([m]);
    const one = await env.api.get(`/rooms/${room.id}/messages/${m.id}`, a.accessToken);
    expectStatus(one, 200);
    expect(one.body).toEqual(m);
    expectError(
      await env.api.get(`/rooms/${room.id}/messages/${UNKNOWN_ID}`, a.accessToken),
      "MESSAGE_NOT_FOUND",
    );
  });

  test("20 parallel sends with one clientMsgId store exactly one message: one 201, nineteen 200, same id and seq", async () => {
    const a = await signup(env.api, "idem");
    const room = await createRoom(env.api, a, "Idempotent");
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        env.api.post(
          `/rooms/${room.id}/messages`,
          { message: "exactly once", clientMsgId: "client-1:abc" },
          a.accessToken,
        ),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    const bodies = results.map((r) => r.body as WireMessage);
    expect(new Set(bodies.map((b) => `${b.id}/${b.seq}`)).size).toBe(1);
    expect(bodies[0]).toMatchObject({ message: "exactly once", clientMsgId: "client-1:abc" });

    const stored = await fullHistory(env.api, a, room.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(bodies[0]?.id ?? "missing");

    // A retry later still answers 200 with the original, even with a different text.
    const retry = await env.api.post(
      `/rooms/${room.id}/messages`,
      { message: "changed", clientMsgId: "client-1:abc" },
      a.accessToken,
    );
    expectStatus(retry, 200);
    expect(retry.body).toEqual(bodies[0]);

    // The same key in another room is a conflict, and stores nothing there.
    const other = await createRoom(env.api, a, "Other");
    expectError(
      await env.api.post(
        `/rooms/${other.id}/messages`,
        { message: "x", clientMsgId: "client-1:abc" },
        a.accessToken,
      ),
      "CLIENT_MSG_ID_CONFLICT",
    );
    expect(await fullHistory(env.api, a, other.id)).toEqual([]);

    // Keys are per sender: someone else may use the same one.
    const b = await signup(env.api, "idem");
    expectStatus(await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, a.accessToken), 201);
    const theirs = await env.api.post(
      `/rooms/${room.id}/messages`,
      { message: "mine", clientMsgId: "client-1:abc" },
      b.accessToken,
    );
    expectStatus(theirs, 201);
    expect((theirs.body as WireMessage).id).not.toBe(bodies[0]?.id);
  });

  test("message length: 4000 characters (code points) pass, 4001 are 422, and nothing is stored", async () => {
    const a = await signup(env.api, "len");
    const room = await createRoom(env.api, a, "Length");
    const max = env.server.config.messageMaxLength;
    expect(max).toBe(4000);
    await send(env.api, a, room.id, "x".repeat(max));
    await send(env.api, a, room.id, "😀".repeat(max));
    const tooLong = await env.api.post(
      `/rooms/${room.id}/messages`,
      { message: "x".repeat(max + 1) },
      a.accessToken,
    );
    const err = expectError(tooLong, "MESSAGE_TOO_LONG");
    expect(err.details).toEqual({ max, length: max + 1 });
    expectError(
      await env.api.post(`/rooms/${room.id}/messages`, { message: "😀".repeat(max + 1) }, a.accessToken),
      "MESSAGE_TOO_LONG",
    );
    expectError(
      await env.api.post(`/rooms/${room.id}/messages`, { message: "   " }, a.accessToken),
      "VALIDATION_FAILED",
    );
    expect(await fullHistory(env.api, a, room.id)).toHaveLength(2);
  });
});

describe("history paging", () => {
  test("45 messages page as 20, 20, 5 with no overlap, then nextBefore is null", async () => {
    const a = await signup(env.api, "page");
    const room = await createRoom(env.api, a, "Paging");
    const sent: WireMessage[] = [];
    for (let i = 0; i < 45; i++) sent.push(await send(env.api, a, room.id, `message ${i}`));

    const p1 = await history(env.api, a, room.id);
    const p2 = await history(env.api, a, room.id, `?before=${p1.nextBefore}`);
    const p3 = await history(env.api, a, room.id, `?before=${p2.nextBefore}&limit=20`);
    expect([p1.messages.length, p2.messages.length, p3.messages.length]).toEqual([20, 20, 5]);
    expect(p3.nextBefore).toBeNull();
    expect(p1.nextBefore).toBe(p1.messages[0]?.seq ?? -1);
    expect(p2.nextBefore).toBe(p2.messages[0]?.seq ?? -1);

    for (const page of [p1, p2, p3]) {
      const seqs = page.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    const all = [...p3.messages, ...p2.messages, ...p1.messages];
    expect(new Set(all.map((m) => m.id)).size).toBe(45);
    expect(all.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    expect(all.map((m) => m.message)).toEqual(sent.map((m) => m.message));

    const small = await history(env.api, a, room.id, "?limit=1");
    expect(small.messages.map((m) => m.id)).toEqual([sent[44]?.id ?? ""]);
    const big = await history(env.api, a, room.id, "?limit=100");
    expect(big.messages).toHaveLength(45);
    expect(big.nextBefore).toBeNull();
  });

  test("bad cursors are INVALID_CURSOR, bad limits VALIDATION_FAILED", async () => {
    const a = await signup(env.api, "cur");
    const room = await createRoom(env.api, a, "Cursors");
    for (const before of ["abc", "0", "-1", "1.5", "1e3", "99999999999999999999", ""]) {
      expectError(
        await env.api.get(`/rooms/${room.id}/messages?before=${before}`, a.accessToken),
        "INVALID_CURSOR",
      );
    }
    for (const limit of ["0", "101", "-5", "ten", "2.5"]) {
      expectError(
        await env.api.get(`/rooms/${room.id}/messages?limit=${limit}`, a.accessToken),
        "VALIDATION_FAILED",
      );
    }
    expectError(
      await env.api.get(`/rooms/${room.id}/messages?before=1&before=2`, a.accessToken),
      "INVALID_CURSOR",
    );
  });
});

describe("editing and deleting", () => {
  test("only the author edits; owner, author and admin delete; deleted messages stay as tombstones", async () => {
    const owner = await signup(env.api, "eo");
    const author = await signup(env.api, "ea");
    const other = await signup(env.api, "ex");
    const room = await createRoom(env.api, owner, "Edits", [author.user.id, other.user.id]);
    const m = await send(env.api, author, room.id, "first draft");

    const edited = await env.api.patch(
      `/rooms/${room.id}/messages/${m.id}`,
      { message: "final text" },
      author.accessToken,
    );
    expectStatus(edited, 200);
    const e = edited.body as WireMessage;
    expect(e).toMatchObject({ id: m.id, seq: m.seq, message: "final text", deletedAt: null });
    expect(e.editedAt).not.toBeNull();

    expectError(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "hijack" }, owner.accessToken),
      "FORBIDDEN",
    );
    expectError(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "hijack" }, other.accessToken),
      "FORBIDDEN",
    );
    expectError(await env.api.del(`/rooms/${room.id}/messages/${m.id}`, other.accessToken), "FORBIDDEN");
    expectError(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "" }, author.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(
      await env.api.patch(
        `/rooms/${room.id}/messages/${m.id}`,
        { message: "x".repeat(4001) },
        author.accessToken,
      ),
      "MESSAGE_TOO_LONG",
    );
    expectError(
      await env.api.patch(`/rooms/${room.id}/messages/${UNKNOWN_ID}`, { message: "x" }, author.accessToken),
      "MESSAGE_NOT_FOUND",
    );
    expect((await env.api.get(`/rooms/${room.id}/messages/${m.id}`, other.accessToken)).body).toEqual(e);

    // The room owner deletes someone else's message.
    expectStatus(await env.api.del(`/rooms/${room.id}/messages/${m.id}`, owner.accessToken), 204);
    const tomb = (await env.api.get(`/rooms/${room.id}/messages/${m.id}`, other.accessToken))
      .body as WireMessage;
    expect(tomb).toMatchObject({ id: m.id, seq: m.seq, senderId: author.user.id, message: null });
    expect(tomb.deletedAt).not.toBeNull();
    expect(JSON.stringify(tomb)).not.toContain("final text");
    // Deleting twice is a no-op; editing a deleted message is not possible.
    expectStatus(await env.api.del(`/rooms/${room.id}/messages/${m.id}`, author.accessToken), 204);
    expectError(
      await env.api.patch(`/rooms/${room.id}/messages/${m.id}`, { message: "revive" }, author.accessToken),
      "MESSAGE_NOT_FOUND",
    );
    const page = await history(env.api, other, room.id);
    expect(page.messages).toEqual([tomb]);

    // Authors delete their own.
    const m2 = await send(env.api, other, room.id, "oops");
    expectStatus(await env.api.del(`/rooms/${room.id}/messages/${m2.id}`, other.accessToken), 204);
    expectError(
      await env.api.del(`/rooms/${room.id}/messages/${UNKNOWN_ID}`, other.accessToken),
      "MESSAGE_NOT_FOUND",
    );
  });

  test("a message id from another room is MESSAGE_NOT_FOUND there", async () => {
    const a = await signup(env.api, "x");
    const r1 = await createRoom(env.api, a, "one");
    const r2 = await createRoom(env.api, a, "two");
    const m = await send(env.api, a, r1.id, "in room one");
    expectError(await env.api.get(`/rooms/${r2.id}/messages/${m.id}`, a.accessToken), "MESSAGE_NOT_FOUND");
    expectError(
      await env.api.patch(`/rooms/${r2.id}/messages/${m.id}`, { message: "moved?" }, a.accessToken),
      "MESSAGE_NOT_FOUND",
    );
    expectError(await env.api.del(`/rooms/${r2.id}/messages/${m.id}`, a.accessToken), "MESSAGE_NOT_FOUND");
    expect((await env.api.get(`/rooms/${r1.id}/messages/${m.id}`, a.accessToken)).body).toEqual(m);
  });
});

describe("search", () => {
  test("only the caller's rooms are searched; roomId narrows and must be the caller's; deleted never match", async () => {
    const a = await signup(env.api, "sa");
    const b = await signup(env.api, "sb");
    const word = `zebra${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const shared = await createRoom(env.api, a, "Shared", [b.user.id]);
    const privateRoom = await createRoom(env.api, a, "Private");
    const inShared = await send(env.api, a, shared.id, `a ${word} in the shared room`);
    const inPrivate = await send(env.api, a, privateRoom.id, `a ${word} in private`);
    const deleted = await send(env.api, a, shared.id, `a deleted ${word}`);
    expectStatus(await env.api.del(`/rooms/${shared.id}/messages/${deleted.id}`, a.accessToken), 204);

    const mine = await env.api.get(`/search/messages?q=${word}`, a.accessToken);
    expectStatus(mine, 200);
    const hits = (mine.body as SearchResult).hits;
    expect(hits.map((h) => h.message.id)).toEqual([inPrivate.id, inShared.id]);
    expect(hits.map((h) => h.roomName)).toEqual(["Private", "Shared"]);
    expect(hits[0]?.message).toEqual(inPrivate);

    const theirs = (await env.api.get(`/search/messages?q=${word}`, b.accessToken)).body as SearchResult;
    expect(theirs.hits.map((h) => h.message.id)).toEqual([inShared.id]);
    expect(JSON.stringify(theirs)).not.toContain("in private");

    const narrowed = (await env.api.get(`/search/messages?q=${word}&roomId=${shared.id}`, a.accessToken))
      .body as SearchResult;
    expect(narrowed.hits.map((h) => h.message.id)).toEqual([inShared.id]);
    expectError(
      await env.api.get(`/search/messages?q=${word}&roomId=${privateRoom.id}`, b.accessToken),
      "ROOM_NOT_FOUND",
    );
  });

  test("search pages by message-id cursor; bad input is refused", async () => {
    const a = await signup(env.api, "sp");
    const room = await createRoom(env.api, a, "Pages");
    const word = `quokka${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const sent: WireMessage[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(env.api, a, room.id, `${word} number ${i}`));
    const p1 = (await env.api.get(`/search/messages?q=${word}&limit=3`, a.accessToken)).body as SearchResult;
    expect(p1.hits.map((h) => h.message.id)).toEqual([4, 3, 2].map((i) => sent[i]?.id ?? ""));
    expect(p1.nextBefore).toBe(sent[2]?.id ?? "missing");
    const p2 = (
      await env.api.get(`/search/messages?q=${word}&limit=3&before=${p1.nextBefore}`, a.accessToken)
    ).body as SearchResult;
    expect(p2.hits.map((h) => h.message.id)).toEqual([1, 0].map((i) => sent[i]?.id ?? ""));
    expect(p2.nextBefore).toBeNull();

    expectError(await env.api.get("/search/messages", a.accessToken), "VALIDATION_FAILED");
    expectError(await env.api.get("/search/messages?q=%20%20", a.accessToken), "VALIDATION_FAILED");
    expectError(
      await env.api.get(`/search/messages?q=${"a".repeat(201)}`, a.accessToken),
      "VALIDATION_FAILED",
    );
    expectError(await env.api.get(`/search/messages?q=${word}&before=42`, a.accessToken), "INVALID_CURSOR");
    expectError(
      await env.api.get(`/search/messages?q=${word}&roomId=nope`, a.accessToken),
      "VALIDATION_FAILED",
    );
    // Query syntax is plain text, never an operator.
    const syntax = await env.api.get(
      `/search/messages?q=${encodeURIComponent(`${word} OR * & | ! :*`)}`,
      a.accessToken,
    );
    expectStatus(syntax, 200);
  });
});
