import { describe, expect, test } from "bun:test";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, send, signup, useTestServer } from "./helpers.ts";

const BACKLOG = 40;

const env = useTestServer({ config: { wsReplayBacklog: BACKLOG } });

const roomDest = (roomId: string) => `/sub/chat/room/${roomId}`;

/** Seqs of the stored events one subscription received, in arrival order. */
function seqs(c: StompTestClient, subId: string): number[] {
  return c
    .framesOf(subId)
    .filter((f) => header(f, "seq") !== undefined)
    .map((f) => Number(header(f, "seq")));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("resume with since-seq", () => {
  test("after a disconnect: exactly the missed events in order, then live ones, no duplicates", async () => {
    const a = await signup(env.api, "res");
    const b = await signup(env.api, "res");
    const room = await createRoom(env.api, a, "Resume", [b.user.id]);
    const first = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await first.subscribeWithReceipt(roomDest(room.id), "s");
    for (const text of ["m1", "m2", "m3"]) await send(env.api, a, room.id, text);
    await first.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "m3");
    const lastSeen = Math.max(...seqs(first, "s"));
    expect(lastSeen).toBe(3);
    first.close();
    await first.closed;

    for (let i = 4; i <= 33; i++) await send(env.api, a, room.id, `m${i}`);
    const again = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const r = await again.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", String(lastSeen)]]);
    expect(r.command).toBe("RECEIPT");
    for (let i = 34; i <= 36; i++) await send(env.api, a, room.id, `m${i}`);
    await again.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "m36");
    expect(seqs(again, "s")).toEqual(range(4, 36));
    const texts = again
      .messages("s")
      .filter((e) => e.type === "message")
      .map((e) => e.message);
    expect(texts).toEqual(range(4, 36).map((i) => `m${i}`));
    // The replayed frames have the same form as live ones.
    const replayed = again.framesOf("s")[0]!;
    expect([
      header(replayed, "destination"),
      header(replayed, "content-type"),
      header(replayed, "seq"),
    ]).toEqual([roomDest(room.id), "application/json", "4"]);
    again.close();
  });

  test("while messages keep being sent during the resume: no gap and no duplicate at the seam", async () => {
    const a = await signup(env.api, "race");
    const b = await signup(env.api, "race");
    const room = await createRoom(env.api, a, "Race", [b.user.id]);
    for (let i = 1; i <= 20; i++) await send(env.api, a, room.id, `pre${i}`);
    const total = 80;
    let sent = 20;
    const sender = (async () => {
      // Two concurrent senders, so commits and announcements also interleave.
      await Promise.all(
        [0, 1].map(async () => {
          while (sent < total) {
            sent++;
            await send(env.api, a, room.id, `live${sent}`);
          }
        }),
      );
    })();
    const c = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", "5"]]);
    await sender;
    const sentinel = await send(env.api, a, room.id, "end");
    await c.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === String(sentinel.seq), 5000);
    expect(seqs(c, "s")).toEqual(range(6, sentinel.seq));
    c.close();
  });

  test("a gap larger than the replay backlog: one reset event with the latest seq, then live events", async () => {
    const a = await signup(env.api, "reset");
    const room = await createRoom(env.api, a, "Reset");
    for (let i = 1; i <= BACKLOG + 10; i++) await send(env.api, a, room.id, `m${i}`);
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", "2"]]);
    const live = await send(env.api, a, room.id, "after");
    await c.waitFor((f) => f.command === "MESSAGE" && header(f, "seq") === String(live.seq));
    const events = c.messages("s").filter((e) => e.type !== "presence");
    expect(events).toEqual([
      { type: "reset", roomId: room.id, latestSeq: BACKLOG + 10 },
      expect.objectContaining({ type: "message", seq: BACKLOG + 11, message: "after" }),
    ]);
    const resetFrame = c.framesOf("s").find((f) => bodyJson(f).type === "reset")!;
    expect(header(resetFrame, "seq")).toBeUndefined();
    c.close();
  });

  test("since-seq equal to the latest seq replays nothing; a malformed since-seq is VALIDATION_FAILED", async () => {
    const a = await signup(env.api, "edge");
    const room = await createRoom(env.api, a, "Edge");
    await send(env.api, a, room.id, "only");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const bad = await c.subscribeWithReceipt(roomDest(room.id), "x", [["since-seq", "-1"]]);
    expect(header(bad, "code")).toBe("VALIDATION_FAILED");
    await c.subscribeWithReceipt(roomDest(room.id), "s", [["since-seq", "1"]]);
    await send(env.api, a, room.id, "next");
    await c.waitFor((f) => f.command === "MESSAGE" && bodyJson(f).message === "next");
    expect(seqs(c, "s")).toEqual([2]);
    c.close();
  });
});
