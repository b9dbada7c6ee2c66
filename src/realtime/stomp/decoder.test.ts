import { describe, expect, test } from "bun:test";
import type { StompDecodeErrorCode } from "./decode-error.ts";
import { type DecodeResult, StompDecoder } from "./decoder.ts";
import { encodeFrame } from "./encoder.ts";
import { header, type StompFrame, type StompVersion } from "./frame.ts";
import { DEFAULT_STOMP_LIMITS, type StompLimits } from "./limits.ts";

const utf8 = new TextEncoder();
const text = (body: Uint8Array) => new TextDecoder().decode(body);

function ok(result: DecodeResult): readonly StompFrame[] {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.frames;
}

function only(result: DecodeResult): StompFrame {
  const frames = ok(result);
  expect(frames.length).toBe(1);
  return frames[0]!;
}

function errorCode(result: DecodeResult): StompDecodeErrorCode | null {
  return result.ok ? null : result.error.code;
}

function decodeOne(input: string | Uint8Array, version: StompVersion = "1.2"): StompFrame {
  return only(new StompDecoder({}, version).push(input));
}

function failWith(
  input: string | Uint8Array,
  limits: Partial<StompLimits> = {},
  version: StompVersion = "1.2",
) {
  return errorCode(new StompDecoder(limits, version).push(input));
}

describe("StompDecoder: the STOMP 1.2 specification examples", () => {
  test("CONNECT and CONNECTED", () => {
    const connect = decodeOne("CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\0");
    expect(connect).toEqual({
      command: "CONNECT",
      headers: [
        ["accept-version", "1.2"],
        ["host", "stomp.github.org"],
      ],
      body: new Uint8Array(0),
    });
    expect(decodeOne("CONNECTED\nversion:1.2\n\n\0").headers).toEqual([["version", "1.2"]]);
  });

  test("SEND whose body ends with the line before the NUL", () => {
    const send = decodeOne("SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\n\0");
    expect(send.command).toBe("SEND");
    expect(header(send, "destination")).toBe("/queue/a");
    expect(text(send.body)).toBe("hello queue a\n");
  });

  test("SUBSCRIBE, MESSAGE and an ERROR with a counted body", () => {
    const sub = decodeOne("SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\0");
    expect(sub.headers).toEqual([
      ["id", "0"],
      ["destination", "/queue/foo"],
      ["ack", "client"],
    ]);
    const msg = decodeOne(
      "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0",
    );
    expect(header(msg, "message-id")).toBe("007");
    expect(text(msg.body)).toBe("hello queue a");
    const body =
      "The message:\n-----\nMESSAGE\ndestined:/queue/a\nreceipt:message-12345\n\nHello queue a!\n-----\n";
    const error = decodeOne(
      `ERROR\nreceipt-id:message-12345\ncontent-type:text/plain\ncontent-length:${utf8.encode(body).length}\nmessage:malformed frame received\n\n${body}\0`,
    );
    expect(header(error, "message")).toBe("malformed frame received");
    expect(text(error.body)).toBe(body);
  });

  test("a repeated header keeps every occurrence, and the first one wins", () => {
    const frame = decodeOne("MESSAGE\nfoo:World\nfoo:Hello\n\n\0");
    expect(frame.headers).toEqual([
      ["foo", "World"],
      ["foo", "Hello"],
    ]);
    expect(header(frame, "foo")).toBe("World");
    expect(header(frame, "bar")).toBeUndefined();
  });

  test("a repeated content-length: the first one delimits the body", () => {
    const frame = decodeOne("SEND\ncontent-length:3\ncontent-length:5\n\nab\0\0");
    expect(Array.from(frame.body)).toEqual([97, 98, 0]);
  });
});

describe("StompDecoder: framing", () => {
  test("CRLF line ends, and heart-beats of either kind between frames", () => {
    const decoder = new StompDecoder();
    const result = decoder.push(
      "\r\n\nSEND\r\ndestination:/a\r\nx:y\r\n\r\nbody\0\r\n\nUNSUBSCRIBE\r\nid:1\r\n\r\n\0\n",
    );
    const frames = ok(result);
    expect(frames.map((f) => f.command)).toEqual(["SEND", "UNSUBSCRIBE"]);
    expect(frames[0]!.headers).toEqual([
      ["destination", "/a"],
      ["x", "y"],
    ]);
    expect(text(frames[0]!.body)).toBe("body");
    expect(result.heartbeats).toBe(5);
  });

  test("a heart-beat CRLF split between pushes counts once", () => {
    const decoder = new StompDecoder();
    expect(decoder.push("\r")).toEqual({ ok: true, frames: [], heartbeats: 0 });
    expect(decoder.bufferedBytes).toBe(1);
    expect(decoder.push("\n")).toEqual({ ok: true, frames: [], heartbeats: 1 });
    expect(decoder.bufferedBytes).toBe(0);
  });

  test("content-length carries NULs inside the body", () => {
    const bytes = Uint8Array.of(0, 1, 0, 255, 0);
    const frame = decodeOne(
      new Uint8Array([...utf8.encode("SEND\ndestination:/a\ncontent-length:5\n\n"), ...bytes, 0]),
    );
    expect(frame.body).toEqual(bytes);
  });

  test("content-length 0 and leading zeros", () => {
    expect(decodeOne("SEND\ncontent-length:0\n\n\0").body).toEqual(new Uint8Array(0));
    expect(text(decodeOne("SEND\ncontent-length:002\n\nhi\0").body)).toBe("hi");
  });

  test("the first colon splits a header; later colons belong to the value (1.0 style)", () => {
    expect(decodeOne("SEND\ndestination:/queue/a:b:c\n\n\0").headers).toEqual([
      ["destination", "/queue/a:b:c"],
    ]);
    expect(decodeOne("SEND\nempty:\n\n\0").headers).toEqual([["empty", ""]]);
  });

  test("whitespace in headers is kept, and UTF-8 (including a leading BOM) decodes exactly", () => {
    expect(decodeOne("SEND\n a : b \n\n\0").headers).toEqual([[" a ", " b "]]);
    expect(decodeOne("SEND\n\uFEFFnäme:ünïcødé 😀\n\n\0").headers).toEqual([["\uFEFFnäme", "ünïcødé 😀"]]);
  });

  test("string and byte chunks mix, and a frame can arrive one byte at a time", () => {
    const decoder = new StompDecoder();
    const bytes = encodeFrame("SEND", [["destination", "/a"]], "é");
    const frames: StompFrame[] = [];
    for (const b of bytes) frames.push(...ok(decoder.push(Uint8Array.of(b))));
    frames.push(...ok(decoder.push("SEND\n\nx\0")));
    expect(frames.map((f) => text(f.body))).toEqual(["é", "x"]);
  });

  test("a frame split at every offset into two pushes decodes the same", () => {
    const stream = new Uint8Array([
      ...utf8.encode("\r\nCONNECT\r\naccept-version:1.1,1.2\r\nlogin:a\\b\r\n\r\n\0\n"),
      ...encodeFrame(
        "SEND",
        [
          ["k:\\\n", "v\r"],
          ["é", "😀"],
        ],
        Uint8Array.of(0, 10, 13, 0),
      ),
      ...utf8.encode("\nSUBSCRIBE\nid:1\ndestination:/x\n\n\0\r\n"),
    ]);
    const reference = new StompDecoder().push(stream);
    expect(ok(reference).length).toBe(3);
    for (let at = 0; at <= stream.length; at++) {
      const decoder = new StompDecoder();
      const a = decoder.push(stream.subarray(0, at));
      const b = decoder.push(stream.subarray(at));
      expect([...ok(a), ...ok(b)]).toEqual([...reference.frames]);
      expect(a.heartbeats + b.heartbeats).toBe(reference.heartbeats);
    }
  });

  test("frames and bodies are copies: reusing the input buffer changes nothing", () => {
    const chunk = new Uint8Array(encodeFrame("SEND", [["a", "b"]], "hello"));
    const decoder = new StompDecoder();
    const partial = ok(decoder.push(chunk.subarray(0, chunk.length - 3)));
    expect(partial).toEqual([]);
    const tail = chunk.slice(chunk.length - 3);
    const [frame] = ok(decoder.push(tail));
    chunk.fill(0);
    tail.fill(0);
    expect(text(frame!.body)).toBe("hello");
  });

  test("bufferedBytes counts the frame in progress and drops to 0 when it completes", () => {
    const decoder = new StompDecoder();
    expect(decoder.bufferedBytes).toBe(0);
    decoder.push("SEND\ndest");
    expect(decoder.bufferedBytes).toBe(9);
    decoder.push("ination:/a\n\nab");
    expect(decoder.bufferedBytes).toBe(23);
    expect(ok(decoder.push("c\0")).length).toBe(1);
    expect(decoder.bufferedBytes).toBe(0);
  });

  test("frames completed before a fault in the same push are returned with the error", () => {
    const result = new StompDecoder().push("SEND\n\none\0SEND\nbroken\n\n\0");
    expect(result.ok).toBe(false);
    expect(result.frames.map((f) => text(f.body))).toEqual(["one"]);
    expect(errorCode(result)).toBe("MALFORMED_FRAME");
  });

  test("the version can be changed after CONNECT and applies to the next frames", () => {
    const decoder = new StompDecoder();
    ok(decoder.push("CONNECT\naccept-version:1.0\n\n\0"));
    decoder.version = "1.0";
    expect(only(decoder.push("SEND\nx:a\\tb\n\n\0")).headers).toEqual([["x", "a\\tb"]]);
  });

  test("limits default to the documented values", () => {
    expect(new StompDecoder().limits).toEqual(DEFAULT_STOMP_LIMITS);
    expect(DEFAULT_STOMP_LIMITS).toEqual({
      maxFrameBytes: 65_536,
      maxHeaders: 32,
      maxHeaderLineBytes: 8_192,
      maxBodyBytes: 65_536,
    });
    expect(() => new StompDecoder({ maxHeaders: 0 })).toThrow(RangeError);
  });
});

describe("StompDecoder: header escapes per version", () => {
  const line = "SEND\nna\\cme:a\\nb\\\\c\\rd\n\n\0";

  test("1.2 decodes \\r \\n \\c \\\\", () => {
    expect(decodeOne(line, "1.2").headers).toEqual([["na:me", "a\nb\\c\rd"]]);
  });

  test("1.1 decodes \\n \\c \\\\ but not \\r", () => {
    expect(decodeOne("SEND\nna\\cme:a\\nb\\\\c\n\n\0", "1.1").headers).toEqual([["na:me", "a\nb\\c"]]);
    expect(failWith(line, {}, "1.1")).toBe("INVALID_ESCAPE");
  });

  test("1.0 decodes nothing", () => {
    expect(decodeOne(line, "1.0").headers).toEqual([["na\\cme", "a\\nb\\\\c\\rd"]]);
    expect(decodeOne("SEND\nx:\\t\\\n\n\0", "1.0").headers).toEqual([["x", "\\t\\"]]);
  });

  test("undefined escapes and a trailing backslash are INVALID_ESCAPE in 1.1 and 1.2", () => {
    for (const version of ["1.1", "1.2"] as const) {
      expect(failWith("SEND\nx:\\t\n\n\0", {}, version)).toBe("INVALID_ESCAPE");
      expect(failWith("SEND\nx:abc\\\n\n\0", {}, version)).toBe("INVALID_ESCAPE");
      expect(failWith("SEND\nx\\:v\n\n\0", {}, version)).toBe("INVALID_ESCAPE");
    }
  });

  test("CONNECT and CONNECTED headers are never unescaped", () => {
    expect(decodeOne("CONNECT\nlogin:a\\tb\\c\npasscode:\\\n\n\0").headers).toEqual([
      ["login", "a\\tb\\c"],
      ["passcode", "\\"],
    ]);
    expect(decodeOne("CONNECTED\nserver:x\\ny\n\n\0").headers).toEqual([["server", "x\\ny"]]);
    expect(decodeOne("STOMP\nlogin:a\\cb\n\n\0").headers).toEqual([["login", "a:b"]]);
  });
});

describe("StompDecoder: every error code", () => {
  test("FRAME_TOO_LARGE while headers arrive, from a content-length that cannot fit, and from a NUL-ended body", () => {
    expect(failWith("SEND\nabcdefghij:0123456789\n", { maxFrameBytes: 20 })).toBe("FRAME_TOO_LARGE");
    const decoder = new StompDecoder({ maxFrameBytes: 64 });
    const early = decoder.push("SEND\ncontent-length:60\n\n");
    expect(errorCode(early)).toBe("FRAME_TOO_LARGE");
    expect(decoder.bufferedBytes).toBe(0);
    expect(failWith(`SEND\n\n${"x".repeat(59)}`, { maxFrameBytes: 64 })).toBe("FRAME_TOO_LARGE");
    expect(ok(new StompDecoder({ maxFrameBytes: 64 }).push(`SEND\n\n${"x".repeat(57)}\0`)).length).toBe(1);
  });

  test("TOO_MANY_HEADERS past maxHeaders (repetitions count)", () => {
    expect(ok(new StompDecoder({ maxHeaders: 2 }).push("SEND\na:1\na:2\n\n\0")).length).toBe(1);
    expect(failWith("SEND\na:1\na:2\na:3\n\n\0", { maxHeaders: 2 })).toBe("TOO_MANY_HEADERS");
  });

  test("HEADER_TOO_LONG at the limit, without waiting for the line end", () => {
    const limits = { maxHeaderLineBytes: 8 };
    expect(ok(new StompDecoder(limits).push("SEND\nabc:1234\r\n\n\0")).length).toBe(1);
    expect(failWith("SEND\nabc:12345\n\n\0", limits)).toBe("HEADER_TOO_LONG");
    const decoder = new StompDecoder(limits);
    expect(decoder.push("SEND\nabc:123").ok).toBe(true);
    expect(errorCode(decoder.push("456789"))).toBe("HEADER_TOO_LONG");
  });

  test("BODY_TOO_LARGE from content-length before the body arrives, and from a growing NUL-ended body", () => {
    const decoder = new StompDecoder({ maxBodyBytes: 10 });
    expect(errorCode(decoder.push("SEND\ncontent-length:11\n\n"))).toBe("BODY_TOO_LARGE");
    expect(failWith("SEND\ncontent-length:99999999999999999999999\n\n", { maxBodyBytes: 10 })).toBe(
      "BODY_TOO_LARGE",
    );
    const growing = new StompDecoder({ maxBodyBytes: 10 });
    expect(growing.push("SEND\n\n0123456789").ok).toBe(true);
    expect(errorCode(growing.push("a"))).toBe("BODY_TOO_LARGE");
    expect(ok(new StompDecoder({ maxBodyBytes: 10 }).push("SEND\n\n0123456789\0")).length).toBe(1);
  });

  test("the limit broken at the earlier byte is the one reported", () => {
    // The 4th body byte breaks maxBodyBytes before the 5th (the 11th of the frame) breaks maxFrameBytes.
    expect(failWith("SEND\n\n0123456", { maxBodyBytes: 3, maxFrameBytes: 10 })).toBe("BODY_TOO_LARGE");
    // The 2nd body byte (the 8th of the frame) breaks maxFrameBytes before the 6th would break maxBodyBytes.
    expect(failWith("SEND\n\n0123456", { maxBodyBytes: 5, maxFrameBytes: 7 })).toBe("FRAME_TOO_LARGE");
    expect(failWith("SEND\nabcdef", { maxHeaderLineBytes: 3, maxFrameBytes: 7 })).toBe("FRAME_TOO_LARGE");
    // Both broken by the same byte: the more specific limit is named.
    expect(failWith("SEND\nabcdef", { maxHeaderLineBytes: 2, maxFrameBytes: 8 })).toBe("HEADER_TOO_LONG");
  });

  test("MALFORMED_FRAME for each broken framing rule", () => {
    expect(failWith("SEND\nno-colon\n\n\0")).toBe("MALFORMED_FRAME");
    expect(failWith("SEND\n:empty-name\n\n\0")).toBe("MALFORMED_FRAME");
    expect(failWith("SEND\nx:a\0b\n\n\0")).toBe("MALFORMED_FRAME");
    expect(failWith("SEND\ncontent-length:2\n\nabc\0")).toBe("MALFORMED_FRAME");
    expect(failWith("\rSEND\n\n\0")).toBe("MALFORMED_FRAME");
    expect(failWith("SEND\n\n\0\r\r\n")).toBe("MALFORMED_FRAME");
  });

  test("UNKNOWN_COMMAND: unknown, lower-case, overlong (rejected before its line end) or not accepted", () => {
    expect(failWith("FOO\n\n\0")).toBe("UNKNOWN_COMMAND");
    expect(failWith("send\n\n\0")).toBe("UNKNOWN_COMMAND");
    expect(failWith("SEND \n\n\0")).toBe("UNKNOWN_COMMAND");
    expect(failWith("GET / HTTP/1.1")).toBe("UNKNOWN_COMMAND");
    expect(ok(new StompDecoder().push("UNSUBSCRIBE\r\nid:1\r\n\r\n\0")).length).toBe(1);
    expect(errorCode(new StompDecoder({}, "1.2", "client").push("MESSAGE\n\n\0"))).toBe("UNKNOWN_COMMAND");
    expect(errorCode(new StompDecoder({}, "1.2", "server").push("SEND\n\n\0"))).toBe("UNKNOWN_COMMAND");
    expect(ok(new StompDecoder({}, "1.2", "server").push("RECEIPT\nreceipt-id:1\n\n\0")).length).toBe(1);
  });

  test("INVALID_CONTENT_LENGTH for anything but decimal digits", () => {
    for (const value of ["", "abc", "-1", "+1", " 5", "5 ", "0x10", "1e2", "٣"]) {
      expect(failWith(`SEND\ncontent-length:${value}\n\n\0`)).toBe("INVALID_CONTENT_LENGTH");
    }
  });

  test("INVALID_UTF8 in a header name or value", () => {
    const bad = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]];
    for (const bytes of bad) {
      const value = new Uint8Array([...utf8.encode("SEND\nx:a"), ...bytes, ...utf8.encode("\n\n\0")]);
      expect(failWith(value)).toBe("INVALID_UTF8");
      const name = new Uint8Array([...utf8.encode("SEND\n"), ...bytes, ...utf8.encode(":v\n\n\0")]);
      expect(failWith(name)).toBe("INVALID_UTF8");
    }
    // The body is not the codec's business: any bytes pass.
    expect(decodeOne(new Uint8Array([...utf8.encode("SEND\n\n"), 0xff, 0])).body).toEqual(
      Uint8Array.of(0xff),
    );
  });

  test("DECODER_FAULT instead of a throw when the input object itself misbehaves", () => {
    const hostile = {
      get buffer(): ArrayBuffer {
        throw new Error("boom");
      },
    } as unknown as Uint8Array;
    const decoder = new StompDecoder();
    expect(errorCode(decoder.push(hostile))).toBe("DECODER_FAULT");
  });

  test("after an error the decoder is dead and repeats it", () => {
    const decoder = new StompDecoder();
    const first = decoder.push("BOGUS\n\n\0");
    const again = decoder.push("SEND\n\n\0");
    expect(again.ok).toBe(false);
    expect(again.frames).toEqual([]);
    if (!first.ok && !again.ok) expect(again.error).toBe(first.error);
    expect(decoder.error).toEqual({ code: "UNKNOWN_COMMAND", message: "unknown command" });
    expect(decoder.bufferedBytes).toBe(0);
  });
});
