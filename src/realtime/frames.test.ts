import { describe, expect, test } from "bun:test";
import { NOTIFICATIONS_DESTINATION } from "./channels.ts";
import { type FrameId, frameIds } from "./frame-ids.ts";
import { notificationHead, notificationTail } from "./frames.ts";
import { TextMessageTemplate } from "./text-frames.ts";

describe("notification frames", () => {
  const nextId = frameIds();
  const cases: [subscriptionId: string, messageId: FrameId, body: string][] = [
    ["sub-0", nextId(), '{"type":"message","roomId":"01J","seq":7,"senderId":"01K","unreadCount":3}'],
    // Client-chosen subscription ids may hold characters STOMP escapes; bodies may hold any text. A message-id is
    // a FrameId, which has nothing to escape (frame-ids.test.ts), so the tail writes it as it is.
    ["a:b\\c\nd\re", nextId(), '{"type":"room.updated","name":"Café ☕ 設計"}'],
    ["s", nextId(), "{}"],
  ];

  test.each(cases)(
    "head + tail is the frame the generic template makes (%#)",
    (subscriptionId, messageId, body) => {
      const generic = new TextMessageTemplate(
        [
          ["destination", NOTIFICATIONS_DESTINATION],
          ["content-type", "application/json"],
          ["message-id", messageId],
        ],
        body,
      ).forSubscription(subscriptionId);
      expect(notificationHead(subscriptionId) + notificationTail(messageId, body)).toBe(generic);
    },
  );

  test("content-length counts UTF-8 bytes, not UTF-16 units", () => {
    const tail = notificationTail(nextId(), '"☕"');
    expect(tail).toContain("\ncontent-length:5\n\n");
  });

  test("a byte count the caller gives is the one written, and equals the one measured", () => {
    const body = '{"type":"message","roomId":"r☕","unreadCount":3}';
    const id = nextId();
    expect(notificationTail(id, body, Buffer.byteLength(body, "utf8"))).toBe(notificationTail(id, body));
    expect(notificationTail(nextId(), body, 7)).toContain("\ncontent-length:7\n\n");
  });

  test("a header value with NUL is refused, as everywhere else", () => {
    expect(() => notificationHead("a\0b")).toThrow(RangeError);
  });
});
