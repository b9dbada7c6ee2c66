import { describe, expect, test } from "bun:test";
import { header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, signup, useTestServer } from "./helpers.ts";

const env = useTestServer({
  config: { wsCoalesceMs: 5, wsCoalesceMinSubscribers: 0, wsSendRatePerSecond: 1000, wsSendBurst: 1000 },
});

describe("PARLEY_WS_COALESCE_MS > 0", () => {
  test("coalesced delivery keeps every event exactly once, in seq order, each before its RECEIPT; resume still exact", async () => {
    const [a, b, c] = await Promise.all([
      signup(env.api, "co"),
      signup(env.api, "co"),
      signup(env.api, "co"),
    ]);
    const room = await createRoom(env.api, a, "Coalesced", [b.user.id, c.user.id]);
    const dest = `/sub/chat/room/${room.id}`;
    const watcher = await StompTestClient.connect(env.server.wsUrl, c.accessToken);
    await watcher.subscribeWithReceipt(dest, "s");
    const sa = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const sb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    await sa.subscribeWithReceipt(dest, "mine");
    const receipts = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? sa : sb).sendWithReceipt("/pub/message", { roomId: room.id, message: `m${i}` }),
      ),
    );
    expect(receipts.every((r) => r.command === "RECEIPT")).toBe(true);
    // The sender's own copy is already there when its RECEIPT arrives.
    for (const r of receipts.filter((_, i) => i % 2 === 0)) {
      const seq = header(r, "seq");
      expect(sa.framesOf("mine").some((f) => header(f, "seq") === seq)).toBe(true);
    }
    // A late subscriber resuming from seq 10 while the window is open gets 11..30 exactly once.
    const late = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    late.send("SUBSCRIBE", [
      ["destination", dest],
      ["id", "r"],
      ["since-seq", "10"],
    ]);
    await watcher.waitFor((f) => header(f, "seq") === "30", 5000);
    await late.waitFor((f) => header(f, "seq") === "30", 5000);
    const seqs = (cl: StompTestClient, sub: string) =>
      cl
        .framesOf(sub)
        .map((f) => header(f, "seq"))
        .filter((s) => s !== undefined)
        .map(Number);
    expect(seqs(watcher, "s")).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(seqs(late, "r")).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    for (const cl of [watcher, sa, sb, late]) cl.close();
  });
});
