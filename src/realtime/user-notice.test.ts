import { describe, expect, test } from "bun:test";
import { UNREAD_COUNT_MAX } from "../domain/rules.ts";
import { parseUserNotice } from "./user-notice.ts";

const encoder = new TextEncoder();
const parse = (v: unknown) => parseUserNotice(encoder.encode(JSON.stringify(v)));
const read = { type: "read", roomId: "r1", readSeq: 4, unreadCount: 2, origin: "c1" } as const;

describe("parseUserNotice: read", () => {
  test("carries countedSeq when sent", () => {
    expect(parse({ ...read, countedSeq: 6 })).toEqual({ ...read, countedSeq: 6 });
  });

  test("a notice from a version without countedSeq is read without it", () => {
    const notice = parse(read);
    expect(notice).toEqual(read);
    expect(notice !== null && "countedSeq" in notice).toBe(false);
  });

  test("a countedSeq that is not a number makes the notice unreadable", () => {
    expect(parse({ ...read, countedSeq: "6" })).toBeNull();
  });

  test("a count above the cap, from a build before it, is capped", () => {
    expect(parse({ ...read, unreadCount: UNREAD_COUNT_MAX + 7 })).toEqual({
      ...read,
      unreadCount: UNREAD_COUNT_MAX,
    });
    expect(parse({ ...read, unreadCount: UNREAD_COUNT_MAX })).toEqual({
      ...read,
      unreadCount: UNREAD_COUNT_MAX,
    });
  });
});
