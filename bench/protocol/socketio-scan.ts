/**
 * Engine.IO 4 / Socket.IO 5 wire scanner for the generator (one Engine.IO packet per WebSocket message). It
 * answers the handshake and pings, and reads deliveries of the peer's `m` event, emitted as
 * `42["m",<room>,<seq>,"<text>"]`, by byte position without JSON parsing.
 */
import type { Buffer } from "node:buffer";
import { MARKER_PREFIX, readDigits, readUint, TIME_DIGITS } from "./marker.ts";
import type { ScanSink } from "./scan-sink.ts";

const EVENT_PREFIX = '42["m",';

export function scanSocketIo(buf: Buffer, start: number, end: number, sink: ScanSink): void {
  const c0 = buf[start];
  if (c0 === 52 /* 4: message */) {
    const c1 = buf[start + 1];
    if (c1 === 50 /* 2: event */) {
      if (buf[start + 4] !== 109 /* m */) return;
      const room = readUint(buf, start + EVENT_PREFIX.length, end);
      const seq = readUint(buf, room.next + 1, end);
      const m = buf.indexOf(MARKER_PREFIX, seq.next);
      const sentAt = m >= 0 && m < end ? readDigits(buf, m + MARKER_PREFIX.length, TIME_DIGITS) : Number.NaN;
      sink.delivery(room.value, seq.value, sentAt);
    } else if (c1 === 51 /* 3: ack */) {
      sink.acknowledged(String(readUint(buf, start + 2, end).value));
    } else if (c1 === 48 /* 0: namespace connected */) {
      sink.connected();
    } else if (c1 === 52 /* 4: connect error */) {
      sink.failed(buf.toString("utf8", start, end));
    }
  } else if (c0 === 50 /* 2: ping */) {
    sink.reply("3");
  } else if (c0 === 48 /* 0: open */) {
    sink.reply("40");
  } else if (c0 === 49 /* 1: close */) {
    sink.failed("engine.io close");
  }
}
