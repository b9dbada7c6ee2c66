import type { StompVersion } from "./frame.ts";

/**
 * Header escaping (STOMP 1.1 and 1.2): `\\` backslash, `\n` LF, `\c` colon, and in 1.2 only `\r` CR. Any other
 * backslash sequence, including a trailing lone backslash, is invalid.
 */

const NEEDS_ESCAPE = /[\\\r\n:\0]/;
const NEEDS_CHECK_RAW = /[\r\n\0]/;

/**
 * Escapes a header name or value for a 1.2 frame. Throws RangeError for a NUL, which no STOMP version can carry in
 * a header (the caller built an impossible header; no peer input reaches here unchecked).
 */
export function escapeHeaderText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = "";
  let from = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    let rep: string;
    if (c === 92) rep = "\\\\";
    else if (c === 10) rep = "\\n";
    else if (c === 13) rep = "\\r";
    else if (c === 58) rep = "\\c";
    else if (c === 0) throw new RangeError("a STOMP header cannot contain NUL");
    else continue;
    out += text.slice(from, k) + rep;
    from = k + 1;
  }
  return out + text.slice(from);
}

/**
 * Checks a header for a frame that is never escaped (CONNECT, CONNECTED): it must not contain CR, LF or NUL,
 * and a name must not contain a colon either. Throws RangeError otherwise.
 */
export function checkRawHeader(name: string, value: string): void {
  if (name.length === 0 || name.includes(":") || NEEDS_CHECK_RAW.test(name) || NEEDS_CHECK_RAW.test(value)) {
    throw new RangeError(
      "CONNECT/CONNECTED headers cannot be escaped: no colon in names, no CR, LF or NUL anywhere",
    );
  }
}

/** Decodes the escapes of one header name or value; null when it holds an escape `version` does not define. */
export function unescapeHeaderText(text: string, version: StompVersion): string | null {
  let k = text.indexOf("\\");
  if (k < 0) return text;
  const allowCr = version === "1.2";
  let out = "";
  let from = 0;
  while (k >= 0) {
    const next = text.charCodeAt(k + 1);
    let rep: string;
    if (next === 92) rep = "\\";
    else if (next === 110) rep = "\n";
    else if (next === 99) rep = ":";
    else if (next === 114 && allowCr) rep = "\r";
    else return null;
    out += text.slice(from, k) + rep;
    from = k + 2;
    k = text.indexOf("\\", from);
  }
  return out + text.slice(from);
}
