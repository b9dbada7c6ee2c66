/**
 * Consecutive SEND /pub/message frames of one connection are pipelined (send-handler.ts): the next one is taken
 * up once the last one's message is handed to the store. What must still hold: messages stored in the order sent,
 * replies in frame order (errors keeping their place), and any other frame handled after the replies before it.
 */
import { describe, expect, test } from "bun:test";
import type { StompFrame } from "../../src/realtime/stomp/frame.ts";
import { answers, frameText, header, messageSendText, StompTestClient } from "../support/stomp-client.ts";
import { type Account, createRoom, expectStatus, fullHistory, signup, useTestServer } from "./helpers.ts";

/**
 * A long commit interval on SQLite: a SEND that waited for the commit of the one before it would wait that long
 * each time, so back-to-back SENDs finishing within one or two intervals shows they share commits.
 */
const COMMIT_INTERVAL_MS = 400;
const env = useTestServer({ config: { sqliteCommitIntervalMs: COMMIT_INTERVAL_MS } });

/** The receipt ids of the replies (RECEIPTs and /user/queue/errors MESSAGEs) received so far, in order. */
function replies(c: StompTestClient): string[] {
  return c.frames
    .filter((f) => f.command === "RECEIPT" || header(f, "destination") === "/user/queue/errors")
    .map((f) => header(f, "receipt-id") ?? "?");
}

const bodyText = new TextDecoder();

/** The MESSAGE frames of `subId` that carry a chat message (not presence or other room events). */
function messageFrames(c: StompTestClient, subId: string): StompFrame[] {
  return c.framesOf(subId).filter((f) => bodyText.decode(f.body).includes('"type":"message"'));
}

async function sender(prefix: string): Promise<{ a: Account; roomId: string; c: StompTestClient }> {
  const a = await signup(env.api, prefix);
  const room = await createRoom(env.api, a, "Pipelined");
  const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
  return { a, roomId: room.id, c };
}

describe("pipelined SENDs", () => {
  test("back-to-back SENDs share commits, are stored in the order sent, and are answered in that order", async () => {
    const { a, roomId, c } = await sender("pipe");
    const n = 12;
    // Let the store go idle first, so the first commit does not wait for the interval either.
    await Bun.sleep(COMMIT_INTERVAL_MS);
    const started = performance.now();
    // One WebSocket message with every frame, as a client flushing its queue sends them.
    c.sendRaw(Array.from({ length: n }, (_, i) => messageSendText(roomId, `m${i}`, `s${i}`)).join(""));
    const last = await c.waitFor((f) => answers(f, `s${n - 1}`), 10_000);
    const elapsed = performance.now() - started;
    // On SQLite, one commit after another would take (n - 1) intervals; shared commits take one or two.
    // (PostgreSQL's group commit has no interval; its batches are tested in postgres-group-commit.test.ts.)
    if (env.server.schema === null) expect(elapsed).toBeLessThan(3 * COMMIT_INTERVAL_MS);
    expect(last.command).toBe("RECEIPT");
    expect(replies(c)).toEqual(Array.from({ length: n }, (_, i) => `s${i}`));
    const receipts = c.frames.filter((f) => f.command === "RECEIPT");
    expect(receipts.map((f) => Number(header(f, "seq")))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect((await fullHistory(env.api, a, roomId)).map((m) => m.message)).toEqual(
      Array.from({ length: n }, (_, i) => `m${i}`),
    );
    c.close();
  });

  test("messages that share a commit reach a member in one WebSocket message, in seq order, before the RECEIPTs", async () => {
    const { a, roomId, c } = await sender("pipe-batch");
    const b = await signup(env.api, "pipe-member");
    expectStatus(await env.api.post(`/rooms/${roomId}/members`, { userId: b.user.id }, a.accessToken), 201);
    const member = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await member.subscribeWithReceipt(`/sub/chat/room/${roomId}`, "room");
    await c.subscribeWithReceipt(`/sub/chat/room/${roomId}`, "mine");
    await Bun.sleep(COMMIT_INTERVAL_MS);
    const n = 12;
    c.sendRaw(Array.from({ length: n }, (_, i) => messageSendText(roomId, `m${i}`, `s${i}`)).join(""));
    await c.waitFor((f) => answers(f, `s${n - 1}`), 10_000);
    await member.until(() => messageFrames(member, "room").length >= n, 5000);
    const got = messageFrames(member, "room");
    // Seq 1 is the member's joining.
    expect(got.map((f) => header(f, "seq"))).toEqual(Array.from({ length: n }, (_, i) => String(i + 2)));
    // The first SEND commits on its own (the store was idle), the other eleven wait for the next commit together:
    // two WebSocket messages, where one per event would be twelve.
    const carriers = new Set(got.map((f) => member.arrivals[member.frames.indexOf(f)]));
    if (env.server.schema === null) expect(carriers.size).toBeLessThanOrEqual(2);
    // The sender's own copy of each message comes before that message's RECEIPT, as it did one by one.
    const own = messageFrames(c, "mine");
    expect(own).toHaveLength(n);
    own.forEach((copy, i) => {
      const receipt = c.frames.findIndex((f) => f.command === "RECEIPT" && answers(f, `s${i}`));
      expect(c.frames.indexOf(copy)).toBeLessThan(receipt);
    });
    member.close();
    c.close();
  });

  test("a failing SEND between good ones is answered in its place; the others are stored in order", async () => {
    const { a, roomId, c } = await sender("pipe-err");
    const other = await signup(env.api, "pipe-other");
    const notMine = await createRoom(env.api, other, "Not mine");
    const frames = [
      messageSendText(roomId, "one", "s0"),
      messageSendText(roomId, "two", "s1"),
      messageSendText(notMine.id, "stranger", "s2"),
      messageSendText(roomId, "", "s3"),
      messageSendText(roomId, "three", "s4"),
    ];
    c.sendRaw(frames.join(""));
    await c.waitFor((f) => answers(f, "s4"), 5000);
    expect(replies(c)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    const byReceipt = (id: string): StompFrame => c.frames.find((f) => answers(f, id)) as StompFrame;
    expect(header(byReceipt("s2"), "code")).toBe("ROOM_NOT_FOUND");
    expect(header(byReceipt("s3"), "code")).toBe("VALIDATION_FAILED");
    expect([
      header(byReceipt("s0"), "seq"),
      header(byReceipt("s1"), "seq"),
      header(byReceipt("s4"), "seq"),
    ]).toEqual(["1", "2", "3"]);
    expect((await fullHistory(env.api, a, roomId)).map((m) => m.message)).toEqual(["one", "two", "three"]);
    expect(await fullHistory(env.api, other, notMine.id)).toEqual([]);
    expect(c.closeInfo).toBeNull();
    c.close();
  });

  test("a frame after SENDs is handled after their replies: a read of the last seq, then DISCONNECT", async () => {
    const { roomId, c } = await sender("pipe-bar");
    const n = 8;
    const frames = Array.from({ length: n }, (_, i) => messageSendText(roomId, `m${i}`, `s${i}`));
    // The read names the last message's seq: it can only count as read if every SEND before it has committed.
    frames.push(
      frameText(
        "SEND",
        [
          ["destination", "/pub/read"],
          ["content-type", "application/json"],
          ["receipt", "read"],
        ],
        JSON.stringify({ roomId, seq: n }),
      ),
      frameText("DISCONNECT", [["receipt", "bye"]]),
    );
    c.sendRaw(frames.join(""));
    await c.closed;
    expect(replies(c)).toEqual([...Array.from({ length: n }, (_, i) => `s${i}`), "read", "bye"]);
    const read = c.frames.find((f) => answers(f, "read")) as StompFrame;
    expect([read.command, header(read, "read-seq"), header(read, "unread-count")]).toEqual([
      "RECEIPT",
      String(n),
      "0",
    ]);
  });
});
