import { Buffer } from "node:buffer";
import { checkRawHeader, escapeHeaderText } from "./escape.ts";
import type { StompCommand, StompHeader } from "./frame.ts";

const UTF8 = new TextEncoder();
const EMPTY_BODY = new Uint8Array(0);

/** A body given as text is sent as its UTF-8 bytes. */
export function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return EMPTY_BODY;
  return typeof body === "string" ? UTF8.encode(body) : body;
}

/**
 * The header lines of a frame, in the caller's order, each ending in LF. The encoder owns `content-length` (a
 * caller's is dropped, the true one is appended when the body is not empty) so it can never contradict the body.
 * Headers are escaped per STOMP 1.2 except in CONNECT and CONNECTED, which no version escapes.
 * Throws RangeError for a header no frame can carry: an empty name, a NUL, or in CONNECT/CONNECTED a colon in a
 * name or a CR/LF anywhere.
 */
export function headerLines(command: StompCommand, headers: readonly StompHeader[], skip?: string): string {
  const raw = command === "CONNECT" || command === "CONNECTED";
  let lines = "";
  for (const [name, value] of headers) {
    if (name === "content-length" || name === skip) continue;
    if (raw) {
      checkRawHeader(name, value);
      lines += `${name}:${value}\n`;
    } else {
      if (name.length === 0) throw new RangeError("a STOMP header name cannot be empty");
      lines += `${escapeHeaderText(name)}:${escapeHeaderText(value)}\n`;
    }
  }
  return lines;
}

/** Writes `text` then `body` then the frame's NUL into one exact-size array. */
export function assemble(text: string, body: Uint8Array): Uint8Array {
  const textBytes = Buffer.byteLength(text, "utf8");
  const out = new Uint8Array(textBytes + body.length + 1);
  UTF8.encodeInto(text, out);
  out.set(body, textBytes);
  return out;
}

/**
 * One spec-correct STOMP 1.2 frame: command, headers (escaped), `content-length` whenever there is a body, a blank
 * line, the body, NUL. No EOL follows the NUL. The result is a fresh array the caller may keep or send.
 */
export function encodeFrame(
  command: StompCommand,
  headers: readonly StompHeader[] = [],
  body?: Uint8Array | string,
): Uint8Array {
  const payload = bodyBytes(body);
  let text = `${command}\n${headerLines(command, headers)}`;
  if (payload.length > 0) text += `content-length:${payload.length}\n`;
  return assemble(`${text}\n`, payload);
}
