/**
 * Zero-copy STOMP scanner for the generator's receive path. It walks a WebSocket payload that holds one or more
 * STOMP frames and, for MESSAGE frames, reads only `subscription`, `seq` and the probe in the body by byte
 * comparison; nothing is decoded into strings except rare frames (ERROR, RECEIPT, error-queue messages).
 * Subscription ids are `r<room index>` for rooms and `e` for the error queue, as the dialect subscribes them.
 */
import { Buffer } from "node:buffer";
import { MARKER_PREFIX, readDigits, readUint, SEQ_DIGITS, SEQ_OFFSET, TIME_DIGITS } from "./marker.ts";
import type { ScanSink } from "./scan-sink.ts";

const LF = 10;
const CR = 13;
const MARK = Buffer.from(MARKER_PREFIX);
const RESET = Buffer.from('"type":"reset"');

function headerText(buf: Buffer, from: number, headersEnd: number, name: string): string {
  const needle = `\n${name}:`;
  const at = buf.indexOf(needle, from);
  if (at < 0 || at >= headersEnd) return "";
  const valueStart = at + needle.length;
  let e = buf.indexOf(LF, valueStart);
  if (e < 0 || e > headersEnd) e = headersEnd;
  return buf.toString("utf8", valueStart, e);
}

function scanMessage(buf: Buffer, p: number, nul: number, sink: ScanSink): void {
  let room = -2;
  let seq = Number.NaN;
  let line = buf.indexOf(LF, p) + 1;
  if (line <= 0) return;
  while (line < nul && buf[line] !== LF && buf[line] !== CR) {
    let e = buf.indexOf(LF, line);
    if (e < 0 || e > nul) e = nul;
    const c0 = buf[line];
    if (c0 === 115 /* s */) {
      if (buf[line + 1] === 117 && buf[line + 12] === 58 /* "subscription:" */) {
        const v = line + 13;
        const c = buf[v];
        room =
          c === 114 /* r */
            ? readUint(buf, v + 1, e).value
            : c === 101 /* e */
              ? -1
              : c === 110 /* n */
                ? -3
                : -2;
      } else if (buf[line + 1] === 101 && buf[line + 2] === 113 && buf[line + 3] === 58 /* "seq:" */) {
        seq = readUint(buf, line + 4, e).value;
      }
    }
    line = e + 1;
  }
  const bodyStart = buf[line] === CR ? line + 2 : line + 1;
  if (room === -1) {
    const code = headerText(buf, p, line, "code");
    sink.rejected(code || "UNKNOWN");
    return;
  }
  if (room === -3) {
    sink.notification?.();
    return;
  }
  if (room < 0 || Number.isNaN(room)) return;
  const m = buf.indexOf(MARK, bodyStart);
  if (m < 0 || m >= nul) {
    if (Number.isNaN(seq) && sink.reset) {
      const r = buf.indexOf(RESET, bodyStart);
      if (r >= 0 && r < nul) {
        sink.reset(room);
        return;
      }
    }
    sink.delivery(room, seq, Number.NaN);
    return;
  }
  const t = m + MARK.length;
  const sentAt = readDigits(buf, t, TIME_DIGITS);
  if (Number.isNaN(seq)) seq = readDigits(buf, t + SEQ_OFFSET, SEQ_DIGITS);
  sink.delivery(room, seq, sentAt);
}

/** Scans `buf[start, end)`; heart-beat EOLs between frames are skipped. */
export function scanStomp(buf: Buffer, start: number, end: number, sink: ScanSink): void {
  let p = start;
  while (p < end) {
    const c = buf[p];
    if (c === LF || c === CR || c === 0) {
      p++;
      continue;
    }
    let nul = buf.indexOf(0, p);
    if (nul < 0 || nul > end) nul = end;
    if (c === 77 /* M */) {
      scanMessage(buf, p, nul, sink);
    } else {
      let headersEnd = buf.indexOf("\n\n", p);
      if (headersEnd < 0 || headersEnd > nul) headersEnd = nul;
      if (c === 67 /* CONNECTED */) sink.connected();
      else if (c === 82 /* RECEIPT */) sink.acknowledged(headerText(buf, p, headersEnd, "receipt-id"));
      else if (c === 69 /* ERROR */) {
        const code = headerText(buf, p, headersEnd, "code");
        const message = headerText(buf, p, headersEnd, "message");
        sink.failed(`${code || "ERROR"}${message ? `: ${message}` : ""}`);
      }
    }
    p = nul + 1;
  }
}
