import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FC_RUNS } from "../../../test/support/fc-runs.ts";
import { StompDecoder } from "./decoder.ts";
import { encodeFrame } from "./encoder.ts";
import type { StompHeader } from "./frame.ts";
import { encodeMessageTemplate } from "./message-template.ts";

const RUNS = FC_RUNS;
/** Generous and proportional to the run count: a busy machine may be slow, but a hang still ends. */
const TIMEOUT_MS = Math.max(60_000, RUNS.numRuns * 6);
const wire = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("encodeFrame", () => {
  test("writes command, headers, content-length for a body, blank line, body, NUL", () => {
    const bytes = encodeFrame("SEND", [["destination", "/pub/message"]], '{"a":"é"}');
    expect(wire(bytes)).toBe('SEND\ndestination:/pub/message\ncontent-length:10\n\n{"a":"é"}\0');
  });

  test("no body means no content-length", () => {
    expect(wire(encodeFrame("DISCONNECT", [["receipt", "77"]]))).toBe("DISCONNECT\nreceipt:77\n\n\0");
    expect(wire(encodeFrame("RECEIPT", [], new Uint8Array(0)))).toBe("RECEIPT\n\n\0");
  });

  test("a caller's content-length is replaced by the true one", () => {
    const bytes = encodeFrame(
      "MESSAGE",
      [
        ["content-length", "999"],
        ["x", "1"],
      ],
      "ab",
    );
    expect(wire(bytes)).toBe("MESSAGE\nx:1\ncontent-length:2\n\nab\0");
  });

  test("binary bodies with NULs are written verbatim", () => {
    const bytes = encodeFrame("MESSAGE", [], Uint8Array.of(0, 1, 0));
    expect(Array.from(bytes.subarray(bytes.length - 4))).toEqual([0, 1, 0, 0]);
  });

  test("escapes backslash, LF, CR and colon in names and values", () => {
    expect(wire(encodeFrame("ERROR", [["a:b\\", "1\n2\r3:4"]]))).toBe("ERROR\na\\cb\\\\:1\\n2\\r3\\c4\n\n\0");
  });

  test("CONNECT and CONNECTED are written raw, as the specification requires", () => {
    expect(wire(encodeFrame("CONNECTED", [["server", "a\\b:c"]]))).toBe("CONNECTED\nserver:a\\b:c\n\n\0");
    expect(wire(encodeFrame("CONNECT", [["passcode", "p:\\w"]]))).toBe("CONNECT\npasscode:p:\\w\n\n\0");
  });

  test("headers that no frame can carry are a RangeError", () => {
    expect(() => encodeFrame("SEND", [["", "v"]])).toThrow(RangeError);
    expect(() => encodeFrame("SEND", [["x", "a\0b"]])).toThrow(RangeError);
    expect(() => encodeFrame("CONNECTED", [["x", "a\nb"]])).toThrow(RangeError);
    expect(() => encodeFrame("CONNECT", [["x:y", "v"]])).toThrow(RangeError);
    expect(() => encodeFrame("CONNECT", [["x", "a\rb"]])).toThrow(RangeError);
  });
});

describe("encodeMessageTemplate", () => {
  const headers: StompHeader[] = [
    ["destination", "/sub/chat/room/r1"],
    ["content-type", "application/json"],
    ["message-id", "01J0000000000000000000000"],
    ["seq", "42"],
  ];
  const body = '{"roomId":"r1","message":"héllo"}';

  test("produces exactly what encodeFrame produces with the subscription header first", () => {
    const template = encodeMessageTemplate(headers, body);
    for (const id of ["sub-0", "0", "", "a:b\\c\nd\re", "süb-😀"]) {
      expect(template.forSubscription(id)).toEqual(
        encodeFrame("MESSAGE", [["subscription", id], ...headers], body),
      );
    }
  });

  test("a subscription or content-length in the given headers is ignored", () => {
    const template = encodeMessageTemplate(
      [["subscription", "stale"], ["content-length", "1"], ...headers],
      body,
    );
    expect(template.forSubscription("s1")).toEqual(
      encodeFrame("MESSAGE", [["subscription", "s1"], ...headers], body),
    );
  });

  test("each call returns a fresh array", () => {
    const template = encodeMessageTemplate(headers, body);
    const a = template.forSubscription("x");
    a.fill(0);
    expect(template.forSubscription("x")).toEqual(
      encodeFrame("MESSAGE", [["subscription", "x"], ...headers], body),
    );
  });

  test(
    "decodes back to the subscription and the event for any id, headers and body",
    () => {
      const text = fc.string({ unit: "binary", maxLength: 12 }).map((s) => s.replaceAll("\0", "0"));
      fc.assert(
        fc.property(
          text,
          fc.array(
            fc.tuple(
              text.filter((n) => n.length > 0 && n !== "content-length" && n !== "subscription"),
              text,
            ),
            {
              maxLength: 4,
            },
          ),
          fc.uint8Array({ maxLength: 32 }),
          (id, hs, payload) => {
            const bytes = encodeMessageTemplate(hs, payload).forSubscription(id);
            expect(bytes).toEqual(encodeFrame("MESSAGE", [["subscription", id], ...hs], payload));
            const result = new StompDecoder().push(bytes);
            expect(result.ok).toBe(true);
            const frame = result.frames[0]!;
            expect(frame.headers[0]).toEqual(["subscription", id]);
            expect(frame.body).toEqual(payload);
          },
        ),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );
});
