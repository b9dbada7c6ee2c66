/** The generator's byte-level pieces against frames built by the real codec: framing, scanning, histogram. */
import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { Histogram } from "../../bench/metrics/histogram.ts";
import { probeText } from "../../bench/protocol/marker.ts";
import type { ScanSink } from "../../bench/protocol/scan-sink.ts";
import { scanSocketIo } from "../../bench/protocol/socketio-scan.ts";
import { scanStomp } from "../../bench/protocol/stomp-scan.ts";
import { MaskedFrame, OP_BINARY, OP_TEXT, WsReader } from "../../bench/protocol/ws-frames.ts";
import { encodeFrame, encodeMessageTemplate } from "../../src/realtime/stomp/index.ts";

function recorder() {
  const events: string[] = [];
  const sink: ScanSink = {
    delivery: (room, seq, sentAt) => events.push(`d ${room} ${seq} ${sentAt}`),
    rejected: (code) => events.push(`x ${code}`),
    connected: () => events.push("c"),
    acknowledged: (id) => events.push(`a ${id}`),
    reply: (text) => events.push(`r ${text}`),
    failed: (reason) => events.push(`f ${reason}`),
  };
  return { events, sink };
}

function probe(time: number, seq: number): string {
  return probeText(64)
    .replace("0".repeat(16), String(time).padStart(16, "0"))
    .replace(/S0{10}/, `S${String(seq).padStart(10, "0")}`);
}

describe("stomp scanner", () => {
  test("reads subscription room, seq header and probe time from MESSAGE frames, several per payload", () => {
    const body = JSON.stringify({ roomId: "abc", message: probe(1_700_000_000_123_456, 3) });
    const t = encodeMessageTemplate(
      [
        ["destination", "/sub/chat/room/abc"],
        ["seq", "42"],
      ],
      body,
    );
    const bytes = Buffer.concat([t.forSubscription("r7"), Buffer.from("\n"), t.forSubscription("r12")]);
    const { events, sink } = recorder();
    scanStomp(bytes, 0, bytes.length, sink);
    expect(events).toEqual(["d 7 42 1700000000123456", "d 12 42 1700000000123456"]);
  });

  test("a notifications frame (subscription n) goes to the sink's notification, never a delivery", () => {
    const body = JSON.stringify({ type: "message", roomId: "abc", seq: 5, senderId: "u", unreadCount: 2 });
    const notice = encodeFrame(
      "MESSAGE",
      [
        ["subscription", "n"],
        ["destination", "/user/queue/notifications"],
      ],
      body,
    );
    const room = encodeMessageTemplate(
      [["seq", "5"]],
      JSON.stringify({ message: probe(1_700_000_000_000_001, 5) }),
    );
    const bytes = Buffer.concat([Buffer.from(notice), room.forSubscription("r3")]);
    const { events, sink } = recorder();
    scanStomp(bytes, 0, bytes.length, { ...sink, notification: () => events.push("n") });
    expect(events).toEqual(["n", "d 3 5 1700000000000001"]);
    // A sink that does not count notifications ignores them.
    const plain = recorder();
    scanStomp(bytes, 0, bytes.length, plain.sink);
    expect(plain.events).toEqual(["d 3 5 1700000000000001"]);
  });

  test("a reset event (no seq, no probe) goes to the sink's reset, other probe-less events stay deliveries", () => {
    const reset = encodeFrame(
      "MESSAGE",
      [["subscription", "r4"]],
      JSON.stringify({ type: "reset", roomId: "abc", latestSeq: 9 }),
    );
    const presence = encodeFrame(
      "MESSAGE",
      [["subscription", "r4"]],
      JSON.stringify({ type: "presence", roomId: "abc", userId: "u", status: "online" }),
    );
    const bytes = Buffer.concat([Buffer.from(reset), Buffer.from(presence)]);
    const { events, sink } = recorder();
    scanStomp(bytes, 0, bytes.length, { ...sink, reset: (room) => events.push(`reset ${room}`) });
    expect(events).toEqual(["reset 4", "d 4 NaN NaN"]);
  });

  test("falls back to the sender seq in the probe when there is no seq header", () => {
    const bytes = Buffer.from(
      encodeFrame(
        "MESSAGE",
        [
          ["subscription", "r1"],
          ["destination", "/topic/r1"],
        ],
        probe(5, 99),
      ),
    );
    const { events, sink } = recorder();
    scanStomp(bytes, 0, bytes.length, sink);
    expect(events).toEqual(["d 1 99 5"]);
  });

  test("reports error-queue messages, receipts, CONNECTED and ERROR", () => {
    const bytes = Buffer.concat([
      encodeFrame("CONNECTED", [["version", "1.2"]]),
      encodeFrame("RECEIPT", [["receipt-id", "0"]]),
      encodeFrame(
        "MESSAGE",
        [
          ["subscription", "e"],
          ["code", "RATE_LIMITED"],
        ],
        "{}",
      ),
      encodeFrame("ERROR", [
        ["code", "UNAUTHENTICATED"],
        ["message", "bad token"],
      ]),
    ]);
    const { events, sink } = recorder();
    scanStomp(bytes, 0, bytes.length, sink);
    expect(events).toEqual(["c", "a 0", "x RATE_LIMITED", "f UNAUTHENTICATED: bad token"]);
  });
});

describe("socket.io scanner", () => {
  test("answers open and ping, reads acks and m events", () => {
    const { events, sink } = recorder();
    for (const p of [
      '0{"sid":"x"}',
      "2",
      '40{"sid":"y"}',
      "430[]",
      `42["m",3,17,${JSON.stringify(probe(77, 1))}]`,
    ]) {
      const b = Buffer.from(p);
      scanSocketIo(b, 0, b.length, sink);
    }
    expect(events).toEqual(["r 40", "r 3", "c", "a 0", "d 3 17 77"]);
  });
});

describe("websocket framing", () => {
  test("a patched masked frame unmasks to the patched payload", () => {
    const f = new MaskedFrame(OP_TEXT, "time=0000000000 end");
    f.patchDigits(5, 1234567, 10);
    const b = f.bytes;
    expect(b[0]).toBe(0x81);
    expect(b[1]! & 0x80).toBe(0x80);
    const mask = b.subarray(2, 6);
    const out = Buffer.from(b.subarray(6).map((x, i) => x ^ mask[i & 3]!));
    expect(out.toString()).toBe("time=0001234567 end");
  });

  test("the reader reassembles messages split at any byte, including 16-bit lengths", () => {
    const payloads = [Buffer.alloc(10, 1), Buffer.alloc(300, 2), Buffer.alloc(5, 3)];
    const wire = Buffer.concat(
      payloads.map((p) =>
        Buffer.concat([
          p.length < 126
            ? Buffer.from([0x82, p.length])
            : Buffer.from([0x82, 126, p.length >> 8, p.length & 255]),
          p,
        ]),
      ),
    );
    for (let cut = 1; cut < wire.length; cut += 7) {
      const got: string[] = [];
      const r = new WsReader((op, buf, s, e) => got.push(`${op}:${e - s}:${buf[s]}`));
      r.push(Buffer.from(wire.subarray(0, cut)));
      r.push(Buffer.from(wire.subarray(cut)));
      expect(got).toEqual([`${OP_BINARY}:10:1`, `${OP_BINARY}:300:2`, `${OP_BINARY}:5:3`]);
    }
  });
});

describe("histogram", () => {
  test("quantiles are within the bucket precision and never below the true value", () => {
    const h = new Histogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = q * 100_000;
      expect(h.quantile(q)).toBeGreaterThanOrEqual(exact);
      expect(h.quantile(q)).toBeLessThanOrEqual(exact * 1.035);
    }
    expect(h.quantile(1)).toBe(100_000);
  });

  test("merging sparse deltas equals recording into one", () => {
    const a = new Histogram();
    const b = new Histogram();
    const all = new Histogram();
    for (let i = 0; i < 1000; i++) {
      const v = (i * 7919) % 50_000;
      (i % 2 ? a : b).record(v);
      all.record(v);
    }
    const m = new Histogram();
    m.addSparse(a.toSparse());
    m.addSparse(b.toSparse());
    expect(m.count).toBe(all.count);
    expect(m.quantile(0.9)).toBe(all.quantile(0.9));
    expect(m.max).toBe(all.max);
  });
});
