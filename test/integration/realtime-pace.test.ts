/**
 * A busy room's publishes are paced (PARLEY_WS_PACE_MS, PARLEY_WS_PACE_BURST; publish-pacing.ts): past its burst, a
 * room publishes at most once per interval, and the events of several commits share one WebSocket message. What
 * must still hold through the real gateway: every event exactly once and in seq order, the sender's copy before its
 * RECEIPT, and a resume during a held batch without a gap or a duplicate.
 */
import { describe, expect, test } from "bun:test";
import type { StompFrame } from "../../src/realtime/stomp/frame.ts";
import { answers, header, messageSendText, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, expectStatus, signup, useTestServer } from "./helpers.ts";

const PACE_MS = 300;
const env = useTestServer({
  config: { wsPaceMs: PACE_MS, wsPaceBurst: 2, wsSendRatePerSecond: 1000, wsSendBurst: 1000 },
});

const bodyText = new TextDecoder();

function messageFrames(c: StompTestClient, subId: string): StompFrame[] {
  return c.framesOf(subId).filter((f) => bodyText.decode(f.body).includes('"type":"message"'));
}

describe("PARLEY_WS_PACE_MS", () => {
  test("a busy room's events of several commits share messages; each once, in order, before its RECEIPT; a resume meanwhile is exact", async () => {
    const a = await signup(env.api, "pace");
    const b = await signup(env.api, "pace-member");
    const room = await createRoom(env.api, a, "Paced");
    expectStatus(await env.api.post(`/rooms/${room.id}/members`, { userId: b.user.id }, a.accessToken), 201);
    const dest = `/sub/chat/room/${room.id}`;
    const member = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await member.subscribeWithReceipt(dest, "room");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    await c.subscribeWithReceipt(dest, "mine");
    // Let the room's pace recover from the membership event, then send one message every 25 ms: each SEND is a
    // commit and a task of its own, so without a pace each would be its own WebSocket message.
    await Bun.sleep(3 * PACE_MS);
    const n = 10;
    let late: StompTestClient | null = null;
    for (let i = 0; i < n; i++) {
      c.sendRaw(messageSendText(room.id, `m${i}`, `s${i}`));
      await Bun.sleep(25);
      // Midway, a second connection of the member resumes from the first message while later ones are held.
      if (i === 4) {
        late = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
        late.send("SUBSCRIBE", [
          ["destination", dest],
          ["id", "late"],
          ["since-seq", "2"],
        ]);
      }
    }
    await c.waitFor((f) => answers(f, `s${n - 1}`), 10_000);
    await member.until(() => messageFrames(member, "room").length >= n, 5000);
    const got = messageFrames(member, "room");
    // Seq 1 is the member's joining; the messages are 2..n+1, once each and in order.
    const expected = Array.from({ length: n }, (_, i) => String(i + 2));
    expect(got.map((f) => header(f, "seq"))).toEqual(expected);
    // Two publishes at once (the burst), then at most one per 300 ms over ~250 ms of sending: far fewer WebSocket
    // messages than the ten commits.
    const carriers = new Set(got.map((f) => member.arrivals[member.frames.indexOf(f)]));
    expect(carriers.size).toBeLessThanOrEqual(5);
    // The sender's own copy of each message comes before that message's RECEIPT.
    const own = messageFrames(c, "mine");
    expect(own).toHaveLength(n);
    own.forEach((copy, i) => {
      const receipt = c.frames.findIndex((f) => f.command === "RECEIPT" && answers(f, `s${i}`));
      expect(receipt).toBeGreaterThan(-1);
      expect(c.frames.indexOf(copy)).toBeLessThan(receipt);
    });
    // The resumed subscription has seqs 3..n+1 exactly once, in order, whatever was held when it subscribed.
    const resumed: StompTestClient | null = late;
    if (resumed === null) throw new Error("the late client did not connect");
    await resumed.until(() => messageFrames(resumed, "late").length >= n - 1, 5000);
    expect(messageFrames(resumed, "late").map((f) => header(f, "seq"))).toEqual(expected.slice(1));
    for (const cl of [member, c, resumed]) cl.close();
  });
});
