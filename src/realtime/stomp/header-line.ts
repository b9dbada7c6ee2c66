import type { Buffer } from "node:buffer";
import type { StompDecodeError } from "./decode-error.ts";
import { unescapeHeaderText } from "./escape.ts";
import type { StompHeader, StompVersion } from "./frame.ts";

const COLON = 58;
const BACKSLASH = 92;
const NUL = 0;

/** Stateless when used for whole inputs (no `stream` option), so one instance serves every decoder. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses one header line (line end already stripped, non-empty) into [name, value]. The line splits at its first
 * colon; later raw colons belong to the value, as STOMP 1.0 peers and most brokers write them. `unescapeFor` is the
 * version whose escapes apply, or null for frames that are never escaped. Never throws.
 */
export function parseHeaderLine(
  src: Buffer,
  from: number,
  to: number,
  unescapeFor: StompVersion | null,
): StompHeader | StompDecodeError {
  let colon = -1;
  let bits = 0;
  let backslash = false;
  for (let k = from; k < to; k++) {
    const b = src[k]!;
    bits |= b;
    if (b === COLON) {
      if (colon < 0) colon = k;
    } else if (b === BACKSLASH) {
      backslash = true;
    } else if (b === NUL) {
      // The grammar would allow it, but no escape can produce it and downstream stores reject it.
      return { code: "MALFORMED_FRAME", message: "NUL in a header" };
    }
  }
  if (colon < 0) return { code: "MALFORMED_FRAME", message: "header line without a colon" };
  if (colon === from) return { code: "MALFORMED_FRAME", message: "header with an empty name" };
  let name = decodeText(src, from, colon, bits);
  let value = decodeText(src, colon + 1, to, bits);
  if (name === null || value === null) return { code: "INVALID_UTF8", message: "header is not valid UTF-8" };
  if (backslash && unescapeFor !== null && unescapeFor !== "1.0") {
    name = unescapeHeaderText(name, unescapeFor);
    value = unescapeHeaderText(value, unescapeFor);
    if (name === null || value === null) {
      return { code: "INVALID_ESCAPE", message: `header escape not defined in STOMP ${unescapeFor}` };
    }
  }
  return [name, value];
}

/** ASCII (no byte with the high bit) takes the cheap latin1 path; anything else is validated as UTF-8. */
function decodeText(src: Buffer, from: number, to: number, bits: number): string | null {
  if (bits < 0x80) return src.toString("latin1", from, to);
  try {
    return UTF8.decode(src.subarray(from, to));
  } catch {
    return null;
  }
}
