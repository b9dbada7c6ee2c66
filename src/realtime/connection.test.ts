import { describe, expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { Connection, type Subscription, Subscriptions } from "./connection.ts";

const errors = (id: string): Subscription => ({ kind: "errors", id });

describe("Subscriptions (none, one, then an array)", () => {
  test("behaves like a Map through none → one → two → one → none", () => {
    const subs = new Subscriptions();
    expect(subs.size).toBe(0);
    expect(subs.get("a")).toBeUndefined();
    const a = errors("a");
    const b = errors("b");
    subs.set("a", a);
    expect(subs.size).toBe(1);
    expect(subs.get("a")).toBe(a);
    expect(subs.has("b")).toBe(false);
    subs.set("b", b);
    expect([...subs.values()]).toEqual([a, b]);
    expect(subs.delete("a")).toBe(true);
    expect(subs.delete("a")).toBe(false);
    expect(subs.size).toBe(1);
    expect(subs.get("b")).toBe(b);
    expect(subs.delete("b")).toBe(true);
    expect(subs.size).toBe(0);
    expect([...subs.values()]).toEqual([]);
  });

  test("set with a known id replaces in place, for one subscription and for several", () => {
    const subs = new Subscriptions();
    const a2 = errors("a");
    subs.set("a", errors("a")).set("a", a2);
    expect(subs.size).toBe(1);
    expect(subs.get("a")).toBe(a2);
    const b = errors("b");
    const a3 = errors("a");
    subs.set("b", b).set("a", a3);
    expect([...subs.values()]).toEqual([a3, b]);
  });

  test("followsRoom: a live room subscription, whether alone or among others", () => {
    const room = (id: string, roomId: string, live: boolean): Subscription => ({
      kind: "room",
      id,
      roomId,
      lease: null,
      live,
      cancelled: false,
    });
    const subs = new Subscriptions();
    expect(subs.followsRoom("R")).toBe(false);
    subs.set("r", room("r", "R", false));
    // Still being set up (replaying or checking membership): not followed yet.
    expect(subs.followsRoom("R")).toBe(false);
    subs.set("r", room("r", "R", true));
    expect(subs.followsRoom("R")).toBe(true);
    expect(subs.followsRoom("S")).toBe(false);
    subs.set("e", errors("e")).set("s", room("s", "S", true));
    expect([subs.followsRoom("R"), subs.followsRoom("S"), subs.followsRoom("T")]).toEqual([
      true,
      true,
      false,
    ]);
    subs.delete("r");
    expect(subs.followsRoom("R")).toBe(false);
  });

  test("values() is a snapshot: deleting while iterating visits every subscription once", () => {
    const subs = new Subscriptions();
    for (const id of ["a", "b", "c"]) subs.set(id, errors(id));
    const seen: string[] = [];
    for (const sub of subs.values()) {
      seen.push(sub.id);
      subs.delete(sub.id);
    }
    expect(seen).toEqual(["a", "b", "c"]);
    expect(subs.size).toBe(0);
  });
});

describe("Connection.send and the slow-consumer limit", () => {
  /** A socket whose sendText answers as Bun's does: bytes written, -1 when queued behind a backlog, 0 dropped. */
  function socket(status: number, buffered: number) {
    const calls = { bufferedAmount: 0, closed: null as null | { code: number; reason: string } };
    const ws = {
      sendText: () => status,
      getBufferedAmount: () => {
        calls.bufferedAmount++;
        return buffered;
      },
      close: (code: number, reason: string) => {
        calls.closed = { code, reason };
      },
    };
    return { ws: ws as unknown as ServerWebSocket<Connection>, calls };
  }

  function open(ws: ServerWebSocket<Connection>): Connection {
    const conn = new Connection("c1", 0, 1000);
    conn.ws = ws;
    conn.phase = "open";
    return conn;
  }

  test("a frame the socket took whole needs no backlog check", () => {
    const { ws, calls } = socket(120, 5000);
    expect(open(ws).send("frame")).toBe(true);
    expect(calls.bufferedAmount).toBe(0);
    expect(calls.closed).toBeNull();
  });

  test("a frame queued behind a backlog over the limit closes the connection as a slow consumer", () => {
    const { ws, calls } = socket(-1, 1001);
    const conn = open(ws);
    expect(conn.send("frame")).toBe(false);
    expect(calls.closed).toEqual({ code: 1008, reason: "slow consumer" });
    expect(conn.isClosed).toBe(true);
  });

  test("a frame queued behind a backlog within the limit keeps it open", () => {
    const { ws, calls } = socket(-1, 1000);
    expect(open(ws).send("frame")).toBe(true);
    expect(calls.bufferedAmount).toBe(1);
    expect(calls.closed).toBeNull();
  });
});
