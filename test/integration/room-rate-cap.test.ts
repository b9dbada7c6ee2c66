import { describe, expect, test } from "bun:test";
import {
  answers as answersReceipt,
  bodyJson,
  header,
  messageSendText,
  StompTestClient,
} from "../support/stomp-client.ts";
import { createRoom, expectError, fullHistory, send, signup, useTestServer } from "./helpers.ts";

const ROOM_BURST = 4;

const env = useTestServer({
  // One message a second per room after a burst of four; per-user limits are out of the way.
  config: { roomSendRate: 1, roomSendBurst: ROOM_BURST, wsSendRatePerSecond: 1000, wsSendBurst: 1000 },
});

describe("per-room send cap", () => {
  test("counts every sender of the room together; the excess gets 429 RATE_LIMITED with Retry-After, nothing stored", async () => {
    const [a, b] = await Promise.all([signup(env.api, "capa"), signup(env.api, "capb")]);
    const room = await createRoom(env.api, a, "Capped", [b.user.id]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        env.api.post(`/rooms/${room.id}/messages`, { message: `m${i}` }, (i % 2 === 0 ? a : b).accessToken),
      ),
    );
    const ok = results.filter((r) => r.status === 201);
    const limited = results.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(ROOM_BURST);
    expect(ok.length).toBeLessThanOrEqual(ROOM_BURST + 1);
    expect(ok.length + limited.length).toBe(10);
    for (const r of limited) {
      expectError(r, "RATE_LIMITED");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect((await fullHistory(env.api, a, room.id)).length).toBe(ok.length);
  });

  test("someone outside the room spends none of its budget and is told ROOM_NOT_FOUND, busy room or not", async () => {
    const [a, outsider] = await Promise.all([signup(env.api, "cape"), signup(env.api, "capf")]);
    const room = await createRoom(env.api, a, "Guarded");
    const intrude = () =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          env.api.post(`/rooms/${room.id}/messages`, { message: `x${i}` }, outsider.accessToken),
        ),
      );
    for (const r of await intrude()) expectError(r, "ROOM_NOT_FOUND");
    // Ten refused sends gave their tokens back: the members still have the whole burst.
    for (let i = 0; i < ROOM_BURST; i++) await send(env.api, a, room.id, `m${i}`);
    expectError(
      await env.api.post(`/rooms/${room.id}/messages`, { message: "over" }, a.accessToken),
      "RATE_LIMITED",
    );
    // The room is now refusing its members; to the outsider it still does not exist.
    for (const r of await intrude()) expectError(r, "ROOM_NOT_FOUND");
    expect((await fullHistory(env.api, a, room.id)).map((m) => m.message)).toEqual(
      Array.from({ length: ROOM_BURST }, (_, i) => `m${i}`),
    );
  });

  test("another room is not affected by a flooded one", async () => {
    const a = await signup(env.api, "capc");
    const flooded = await createRoom(env.api, a, "Flooded");
    const quiet = await createRoom(env.api, a, "Quiet");
    await Promise.all(
      Array.from({ length: ROOM_BURST + 2 }, (_, i) =>
        env.api.post(`/rooms/${flooded.id}/messages`, { message: `f${i}` }, a.accessToken),
      ),
    );
    const m = await send(env.api, a, quiet.id, "still fine");
    expect(m.seq).toBe(1);
  });

  test("over STOMP the excess is an explicit RATE_LIMITED on /user/queue/errors and the connection stays open", async () => {
    const a = await signup(env.api, "capd");
    const room = await createRoom(env.api, a, "CappedWs");
    const c = await StompTestClient.connect(env.server.wsUrl, a.accessToken);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.sendWithReceipt("/pub/message", { roomId: room.id, message: `w${i}` }),
      ),
    );
    const accepted = answers.filter((f) => f.command === "RECEIPT");
    const limited = answers.filter((f) => header(f, "code") === "RATE_LIMITED");
    expect(accepted.length).toBeGreaterThanOrEqual(ROOM_BURST);
    expect(accepted.length + limited.length).toBe(8);
    expect(limited.length).toBeGreaterThan(0);
    expect((await fullHistory(env.api, a, room.id)).length).toBe(accepted.length);
    expect(c.closeInfo).toBeNull();
    c.close();
  });
});

describe("a sender's own budget and the room's cap, taken together", () => {
  // Burst 3 per sender and 2 per room, each refilling one a second; every batch of frames below is handled in
  // milliseconds, so no token comes back in between.
  const both = useTestServer({
    config: { roomSendRate: 1, roomSendBurst: 2, wsSendRatePerSecond: 1, wsSendBurst: 3 },
  });
  /** The RECEIPT (→ "ok") or the error's message (→ "room" / "sender") answering each receipt id, in order. */
  async function outcomes(c: StompTestClient, receipts: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of receipts) {
      const f = await c.waitFor((x) => answersReceipt(x, r));
      if (f.command === "RECEIPT") out.push("ok");
      else {
        expect(header(f, "code")).toBe("RATE_LIMITED");
        out.push(String(bodyJson(f).message).startsWith("This room") ? "room" : "sender");
      }
    }
    return out;
  }

  test("a send one budget refuses spends nothing of the other", async () => {
    const [a, b] = await Promise.all([signup(both.api, "capg"), signup(both.api, "caph")]);
    const x = await createRoom(both.api, a, "X");
    const y = await createRoom(both.api, a, "Y", [b.user.id]);
    const ca = await StompTestClient.connect(both.server.wsUrl, a.accessToken);
    const cb = await StompTestClient.connect(both.server.wsUrl, b.accessToken);
    // X takes two; the third is over X's cap and leaves a's own budget at one, which m4 spends; m5 is over a's
    // budget and leaves Y's cap at one.
    ca.sendRaw(
      [
        messageSendText(x.id, "m1", "a1"),
        messageSendText(x.id, "m2", "a2"),
        messageSendText(x.id, "m3", "a3"),
        messageSendText(y.id, "m4", "a4"),
        messageSendText(y.id, "m5", "a5"),
      ].join(""),
    );
    expect(await outcomes(ca, ["a1", "a2", "a3", "a4", "a5"])).toEqual(["ok", "ok", "room", "ok", "sender"]);
    cb.sendRaw([messageSendText(y.id, "b1", "b1"), messageSendText(y.id, "b2", "b2")].join(""));
    expect(await outcomes(cb, ["b1", "b2"])).toEqual(["ok", "room"]);
    expect((await fullHistory(both.api, a, x.id)).map((m) => m.message)).toEqual(["m1", "m2"]);
    expect((await fullHistory(both.api, a, y.id)).map((m) => m.message)).toEqual(["m4", "b1"]);
    ca.close();
    cb.close();
  });
});
