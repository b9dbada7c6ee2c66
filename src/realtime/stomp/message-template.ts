import { Buffer } from "node:buffer";
import { assemble, bodyBytes, headerLines } from "./encoder.ts";
import { escapeHeaderText } from "./escape.ts";
import type { StompHeader } from "./frame.ts";

const UTF8 = new TextEncoder();
const PREFIX = UTF8.encode("MESSAGE\nsubscription:");

/**
 * A MESSAGE frame serialised once for a room event, to be sent to many subscribers that differ only in their
 * `subscription` header. Each call does one allocation and three copies; headers and body are never re-encoded.
 */
export interface MessageTemplate {
  /** The complete frame for `subscriptionId`: a fresh array, byte-identical to what encodeFrame would produce. */
  forSubscription(subscriptionId: string): Uint8Array;
}

class EncodedMessageTemplate implements MessageTemplate {
  /** Everything after the subscription id: the LF ending its line, the other headers, body and NUL. */
  private readonly rest: Uint8Array;

  constructor(headers: readonly StompHeader[], body: Uint8Array | string | undefined) {
    const payload = bodyBytes(body);
    let text = `\n${headerLines("MESSAGE", headers, "subscription")}`;
    if (payload.length > 0) text += `content-length:${payload.length}\n`;
    this.rest = assemble(`${text}\n`, payload);
  }

  forSubscription(subscriptionId: string): Uint8Array {
    const id = escapeHeaderText(subscriptionId);
    let ascii = true;
    for (let k = 0; k < id.length; k++) {
      if (id.charCodeAt(k) > 0x7f) {
        ascii = false;
        break;
      }
    }
    const idBytes = ascii ? id.length : Buffer.byteLength(id, "utf8");
    const at = PREFIX.length;
    const out = new Uint8Array(at + idBytes + this.rest.length);
    out.set(PREFIX);
    if (ascii) {
      for (let k = 0; k < idBytes; k++) out[at + k] = id.charCodeAt(k);
    } else {
      UTF8.encodeInto(id, out.subarray(at, at + idBytes));
    }
    out.set(this.rest, at + idBytes);
    return out;
  }
}

/**
 * Prepares a MESSAGE frame whose `subscription` header is filled in per subscriber; it goes first among the
 * headers. A `subscription` or `content-length` in `headers` is ignored (the template owns both). Throws
 * RangeError for an unrepresentable header, like encodeFrame.
 */
export function encodeMessageTemplate(
  headers: readonly StompHeader[],
  body?: Uint8Array | string,
): MessageTemplate {
  return new EncodedMessageTemplate(headers, body);
}
