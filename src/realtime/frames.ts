import { Buffer } from "node:buffer";
import { ERROR_CATALOG, type ErrorCode } from "../domain/errors.ts";
import { ERRORS_DESTINATION, NOTIFICATIONS_DESTINATION } from "./channels.ts";
import type { FrameId } from "./frame-ids.ts";
import type { HubEvent } from "./hub-event.ts";
import { escapeHeaderText } from "./stomp/escape.ts";
import type { StompHeader } from "./stomp/frame.ts";
import { frameText, TextMessageTemplate } from "./text-frames.ts";

/** The server frames the gateway sends, as text (see text-frames.ts). */

export function connectedFrame(h: {
  readonly version: string;
  readonly heartBeat: string;
  readonly session: string;
  readonly userName: string;
  readonly server: string;
}): string {
  return frameText("CONNECTED", [
    ["version", h.version],
    ["heart-beat", h.heartBeat],
    ["session", h.session],
    ["user-name", h.userName],
    ["server", h.server],
  ]);
}

export function receiptFrame(receiptId: string, extra: readonly StompHeader[] = []): string {
  return frameText("RECEIPT", [["receipt-id", receiptId], ...extra]);
}

/**
 * A protocol or authentication failure: the connection is closed right after it. The body repeats the
 * message for clients that only show bodies.
 */
export function errorFrame(
  code: ErrorCode,
  message: string = ERROR_CATALOG[code].text,
  receiptId?: string,
): string {
  const headers: StompHeader[] = [
    ["code", code],
    ["message", message],
    ["content-type", "text/plain"],
  ];
  if (receiptId !== undefined) headers.push(["receipt-id", receiptId]);
  return frameText("ERROR", headers, message);
}

/** An application-level rejection on /user/queue/errors; the connection stays open. */
export function errorMessageFrame(opts: {
  readonly subscriptionId: string;
  readonly messageId: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly receiptId?: string;
  readonly retryAfterMs?: number;
}): string {
  const headers: StompHeader[] = [
    ["destination", ERRORS_DESTINATION],
    ["content-type", "application/json"],
    ["message-id", opts.messageId],
    ["code", opts.code],
  ];
  if (opts.receiptId !== undefined) headers.push(["receipt-id", opts.receiptId]);
  if (opts.retryAfterMs !== undefined) headers.push(["retry-after-ms", String(opts.retryAfterMs)]);
  const body: Record<string, unknown> = { code: opts.code, message: opts.message };
  if (opts.retryAfterMs !== undefined) body.retryAfterMs = opts.retryAfterMs;
  return new TextMessageTemplate(headers, JSON.stringify(body)).forSubscription(opts.subscriptionId);
}

/**
 * The MESSAGE template of a room event. Stored events carry `seq`, and their message-id is `{roomId}-{seq}`,
 * the same on every process and on replay; ephemeral ones get `ephemeralId`.
 */
export function roomEventTemplate(
  event: HubEvent,
  destination: string,
  ephemeralId: () => string,
): TextMessageTemplate {
  const headers: StompHeader[] = [
    ["destination", destination],
    ["content-type", "application/json"],
    ["message-id", event.seq === null ? ephemeralId() : `${event.roomId}-${event.seq}`],
  ];
  if (event.seq !== null) headers.push(["seq", String(event.seq)]);
  return new TextMessageTemplate(headers, event.json);
}

/**
 * A MESSAGE on /user/queue/notifications, in two parts whose concatenation is the frame: the head depends only on
 * the subscription id (made once per subscription), the tail only on the notice (made once per notice and shared
 * by every subscription id of the user). Notifications are sent once per member and message, so the frame is
 * not assembled from a header list each time; the bytes are those a TextMessageTemplate with the headers
 * destination, content-type and message-id makes (tested).
 */
export function notificationHead(subscriptionId: string): string {
  return `MESSAGE\nsubscription:${escapeHeaderText(subscriptionId)}\ndestination:${NOTIFICATIONS_DESTINATION}\ncontent-type:application/json\nmessage-id:`;
}

/**
 * See notificationHead. `bodyBytes`, when the caller knows it, must be the UTF-8 length of `body`. The message-id
 * is a FrameId, which needs no escaping: checking it cost 4 % of the server's JavaScript time in `seed
 * --notifications` (docs/benchmarks/optimizations.md, "Notification tails without an escaping check").
 */
export function notificationTail(
  messageId: FrameId,
  body: string,
  bodyBytes: number = Buffer.byteLength(body, "utf8"),
): string {
  return `${messageId}\ncontent-length:${bodyBytes}\n\n${body}\0`;
}
