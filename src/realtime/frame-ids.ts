import { randomBytes } from "node:crypto";

/**
 * `message-id` values for frames that carry no stored id of their own (notifications, unstored room events, error
 * frames): unique among this process's frames, and across processes by a random per-process prefix, which is all
 * STOMP asks of them. A counter rather than a ULID per frame, because they are made once per frame per member —
 * 147k/s in the seed workload with notifications — where a ULID's clock read and random part were about 3 % of the
 * server's profile. They carry no time and no order a client may rely on.
 */
export function frameIds(): () => FrameId {
  const prefix = randomBytes(6).toString("base64url");
  let next = 0;
  return () => `${prefix}.${(next++).toString(36)}` as FrameId;
}

declare const frameIdBrand: unique symbol;

/**
 * An id made by `frameIds`: only `[A-Za-z0-9_.-]` (base64url, a dot, base 36), so it goes into a STOMP header as
 * it is, with nothing to escape (tested). The type lets a frame builder skip the escaping check on the hot path
 * (notificationTail, once per member and message) without taking arbitrary strings.
 */
export type FrameId = string & { readonly [frameIdBrand]: true };
