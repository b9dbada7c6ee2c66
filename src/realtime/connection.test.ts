import { describe, expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { Connection, type Subscription, Subscriptions } from "./connection.ts";

const errors = (id: string): Subscription => ({ kind: "errors", id });

/** An open connection on `ws`, past its handshake. */
function open(ws: ServerWebSocket<Connection>): Connection {
  const conn = new Connection("c1", 0, 1000);
  conn.ws = ws;
  conn.phase = "open";
  return conn;
}

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

  test("errors go to the latest /user/queue/errors subscription, else to the default id", () => {
    const conn = new Connection("c1", 0, 1000);
    expect(conn.errorsSubscriptionId).toBe("errors");
    conn.subscriptions.set("r", {
      kind: "room",
      id: "r",
      roomId: "R",
      lease: null,
      live: true,
      cancelled: false,
    });
    expect(conn.errorsSubscriptionId).toBe("errors");
    conn.subscriptions.set("e1", errors("e1"));
    expect(conn.errorsSubscriptionId).toBe("e1");
    conn.subscriptions.set("e2", errors("e2"));
    expect(conn.errorsSubscriptionId).toBe("e2");
    conn.subscriptions.delete("e2");
    expect(conn.errorsSubscriptionId).toBe("e1");
    conn.subscriptions.delete("e1");
    conn.subscriptions.delete("r");
    conn.subscriptions.set("e3", errors("e3"));
    expect(conn.errorsSubscriptionId).toBe("e3");
    conn.subscriptions.delete("e3");
    expect(conn.errorsSubscriptionId).toBe("errors");
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

describe("Connection: pipelined frames reply in frame order", () => {
  function socket() {
    const events: string[] = [];
    const ws = {
      sendText: () => 1,
      pause: () => events.push("pause"),
      resume: () => events.push("resume"),
      close: () => events.push("close"),
    };
    return { ws: ws as unknown as ServerWebSocket<Connection>, events };
  }

  function deferred(): { promise: Promise<() => void>; settle: (reply: () => void) => void } {
    let settle!: (reply: () => void) => void;
    const promise = new Promise<() => void>((resolve) => {
      settle = resolve;
    });
    return { promise, settle };
  }

  const fail = (err: unknown): void => {
    throw err;
  };

  test("replies keep frame order whatever order the frames finish in; repliesSent waits for all of them", async () => {
    const conn = open(socket().ws);
    expect(conn.repliesSent()).toBeNull();
    const sent: number[] = [];
    const frames = [deferred(), deferred(), deferred()];
    for (const f of frames) conn.replyInOrder(f.promise, fail);
    const all = conn.repliesSent();
    expect(all).not.toBeNull();
    frames[2]!.settle(() => sent.push(3));
    frames[1]!.settle(() => sent.push(2));
    await Bun.sleep(1);
    expect(sent).toEqual([]);
    frames[0]!.settle(() => sent.push(1));
    await all;
    expect(sent).toEqual([1, 2, 3]);
    expect(conn.repliesSent()).toBeNull();
  });

  test("a task queued after a pipelined frame may run before its reply", async () => {
    const conn = open(socket().ws);
    const log: string[] = [];
    const first = deferred();
    conn.enqueue(async () => {
      conn.replyInOrder(first.promise, fail);
    }, fail);
    conn.enqueue(async () => {
      log.push("second frame handled");
    }, fail);
    await Bun.sleep(1);
    expect(log).toEqual(["second frame handled"]);
    first.settle(() => log.push("first reply"));
    await conn.repliesSent();
    expect(log).toEqual(["second frame handled", "first reply"]);
  });

  test("frames in flight count towards the pause: reading stops at 64 and resumes at 16", async () => {
    const { ws, events } = socket();
    const conn = open(ws);
    const frames = Array.from({ length: 64 }, () => deferred());
    for (const f of frames.slice(0, 63)) conn.replyInOrder(f.promise, fail);
    expect(events).toEqual([]);
    conn.replyInOrder(frames[63]!.promise, fail);
    expect(events).toEqual(["pause"]);
    for (const f of frames.slice(0, 47)) f.settle(() => {});
    await Bun.sleep(1);
    expect(events).toEqual(["pause"]);
    frames[47]!.settle(() => {});
    await Bun.sleep(1);
    expect(events).toEqual(["pause", "resume"]);
    for (const f of frames.slice(48)) f.settle(() => {});
    await conn.repliesSent();
  });

  test("no reply is sent once the connection has closed", async () => {
    const conn = open(socket().ws);
    const sent: string[] = [];
    const f = deferred();
    conn.replyInOrder(f.promise, fail);
    conn.close(1000, "bye");
    f.settle(() => sent.push("receipt"));
    await conn.repliesSent();
    expect(sent).toEqual([]);
  });
});
