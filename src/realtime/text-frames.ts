import { Buffer } from "node:buffer";
import { headerLines } from "./stomp/encoder.ts";
import { escapeHeaderText } from "./stomp/escape.ts";
import type { ServerCommand, StompHeader } from "./stomp/frame.ts";

/**
 * Server frames as text, sent in WebSocket text messages: every STOMP-over-WebSocket client reads those, and
 * browser tools show them legibly. The bytes are exactly those of encodeFrame / encodeMessageTemplate (same
 * escaping, `content-length` in UTF-8 bytes), only carried as a string. Bodies here are always text (JSON).
 */
export function frameText(command: ServerCommand, headers: readonly StompHeader[], body = ""): string {
  let text = `${command}\n${headerLines(command, headers)}`;
  if (body.length > 0) text += `content-length:${Buffer.byteLength(body, "utf8")}\n`;
  return `${text}\n${body}\0`;
}

/**
 * A MESSAGE frame serialised once for an event and stamped per subscriber: `forSubscription` is one string
 * concatenation, so fanning one event out to many subscription ids never re-encodes headers or body.
 */
export class TextMessageTemplate {
  /** Everything after the subscription id: its line end, the other headers, body and NUL. */
  readonly #rest: string;

  constructor(headers: readonly StompHeader[], body: string) {
    let text = `\n${headerLines("MESSAGE", headers, "subscription")}`;
    if (body.length > 0) text += `content-length:${Buffer.byteLength(body, "utf8")}\n`;
    this.#rest = `${text}\n${body}\0`;
  }

  forSubscription(subscriptionId: string): string {
    return `MESSAGE\nsubscription:${escapeHeaderText(subscriptionId)}${this.#rest}`;
  }

  /**
   * Several templates stamped for one subscription id, back to back in one string, in the given order: STOMP
   * allows several frames in one WebSocket message, so a batch costs one publish per subscription id.
   */
  static joinForSubscription(templates: readonly TextMessageTemplate[], subscriptionId: string): string {
    const head = `MESSAGE\nsubscription:${escapeHeaderText(subscriptionId)}`;
    let text = "";
    for (const t of templates) text += head + t.#rest;
    return text;
  }
}
