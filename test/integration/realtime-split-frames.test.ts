import { describe, expect, test } from "bun:test";
import { header, StompTestClient } from "../support/stomp-client.ts";
import { createRoom, fullHistory, signup, useTestServer } from "./helpers.ts";

// Idle connections hold no decoder: the gateway lends a spare one and hands it to a connection only while a frame
// of it is incomplete. These tests interleave partial frames of several connections to show nothing leaks across.

const env = useTestServer();

const sendFrame = (roomId: string, text: string, receipt: string): string =>
  `SEND\ndestination:/pub/message\nreceipt:${receipt}\n\n${JSON.stringify({ roomId, message: text })}\0`;

describe("frames split across WebSocket messages", () => {
  test("a frame split byte by byte, interleaved with other connections' whole frames, keeps its own content", async () => {
    const a = await signup(env.api, "splita");
    const b = await signup(env.api, "splitb");
    const room = await createRoom(env.api, a, "Split", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    const slow = sendFrame(room.id, "from a, in pieces", "a1");
    for (let i = 0; i < slow.length; i++) {
      ca.sendRaw(slow[i] as string);
      // Another connection's complete frame between two pieces, several times over the frame.
      if (i % 40 === 20) {
        const r = await cb.sendWithReceipt("/pub/message", { roomId: room.id, message: `b${i}` });
        expect(r.command).toBe("RECEIPT");
      }
    }
    const receipt = await ca.waitFor((f) => header(f, "receipt-id") === "a1", 5000);
    expect(receipt.command).toBe("RECEIPT");
    const texts = (await fullHistory(env.api, a, room.id)).map((m) => m.message);
    expect(texts).toContain("from a, in pieces");
    expect(texts.filter((t) => t?.startsWith("b") === true).length).toBe(Math.ceil((slow.length - 20) / 40));
    expect(ca.closeInfo).toBeNull();
    expect(cb.closeInfo).toBeNull();
    ca.close();
    cb.close();
  });

  test("a heart-beat CR and its LF in separate messages, and two half frames on two connections at once", async () => {
    const a = await signup(env.api, "halfa");
    const b = await signup(env.api, "halfb");
    const room = await createRoom(env.api, a, "Halves", [b.user.id]);
    const ca = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    ca.sendRaw("\r");
    const fa = sendFrame(room.id, "whole a", "ra");
    const fb = sendFrame(room.id, "whole b", "rb");
    ca.sendRaw(`\n${fa.slice(0, 30)}`);
    cb.sendRaw(fb.slice(0, 25));
    ca.sendRaw(fa.slice(30));
    cb.sendRaw(fb.slice(25));
    expect((await ca.waitFor((f) => header(f, "receipt-id") === "ra")).command).toBe("RECEIPT");
    expect((await cb.waitFor((f) => header(f, "receipt-id") === "rb")).command).toBe("RECEIPT");
    const texts = (await fullHistory(env.api, a, room.id)).map((m) => m.message);
    expect(texts.sort()).toEqual(["whole a", "whole b"]);
    ca.close();
    cb.close();
  });

  test("a malformed frame closes only its own connection; the next connection's frames decode normally", async () => {
    const a = await signup(env.api, "bada");
    const b = await signup(env.api, "goodb");
    const room = await createRoom(env.api, b, "Good");
    const bad = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const good = await StompTestClient.connect(env.server.wsUrl, b.accessToken);
    bad.sendRaw("NOT-A-COMMAND\n\n\0");
    const error = await bad.waitFor((f) => f.command === "ERROR");
    expect(header(error, "code")).toBe("MALFORMED_FRAME");
    const r = await good.sendWithReceipt("/pub/message", { roomId: room.id, message: "still fine" });
    expect(r.command).toBe("RECEIPT");
    expect(good.closeInfo).toBeNull();
    good.close();
  });
});
