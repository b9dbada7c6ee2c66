import { describe, expect, test } from "bun:test";
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
});
