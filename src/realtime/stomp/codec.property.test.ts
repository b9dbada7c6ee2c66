import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FC_RUNS } from "../../../test/support/fc-runs.ts";
import { STOMP_DECODE_ERROR_CODES } from "./decode-error.ts";
import { type DecodeResult, StompDecoder } from "./decoder.ts";
import { encodeFrame } from "./encoder.ts";
import {
  CLIENT_COMMANDS,
  SERVER_COMMANDS,
  type StompCommand,
  type StompFrame,
  type StompHeader,
} from "./frame.ts";
import { resolveStompLimits, type StompLimits } from "./limits.ts";

const RUNS = FC_RUNS;
/** Generous and proportional to the run count: a busy machine may be slow, but a hang still ends. */
const TIMEOUT_MS = Math.max(60_000, RUNS.numRuns * 6);
const ALL_COMMANDS: readonly StompCommand[] = [...CLIENT_COMMANDS, ...SERVER_COMMANDS];

/** Characters that stress escaping and UTF-8, mixed with arbitrary code points (NUL excluded: no header carries it). */
const headerChar = fc.oneof(
  fc.constantFrom(":", "\n", "\r", "\\", "c", "n", "r", " ", "é", "\u{1F600}", "\uFEFF", "\u00FF"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).map((c) => (c === "\0" ? "0" : c)),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
);
const headerText = (minLength: number) => fc.string({ unit: headerChar, minLength, maxLength: 10 });

/** CONNECT and CONNECTED are never escaped, so their headers must be representable raw. */
function rawSafe([name, value]: StompHeader): StompHeader {
  return [name.replace(/[:\r\n]/g, "x"), value.replace(/[\r\n]/g, "y")];
}

interface FrameSpec {
  readonly command: StompCommand;
  readonly headers: readonly StompHeader[];
  readonly body: Uint8Array;
}

const frameSpec: fc.Arbitrary<FrameSpec> = fc
  .record({
    command: fc.constantFrom(...ALL_COMMANDS),
    headers: fc.array(
      fc.tuple(
        headerText(1).filter((n) => n !== "content-length"),
        headerText(0),
      ),
      { maxLength: 5 },
    ),
    body: fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.constant(new Uint8Array(0))),
  })
  .map(({ command, headers, body }) => ({
    command,
    headers: command === "CONNECT" || command === "CONNECTED" ? headers.map(rawSafe) : headers,
    body,
  }));

/** What a decoder must return for an encoded spec: the encoder appends content-length for a non-empty body. */
function expected(spec: FrameSpec): StompFrame {
  const headers: StompHeader[] = spec.headers.map(([n, v]) => [n, v]);
  if (spec.body.length > 0) headers.push(["content-length", String(spec.body.length)]);
  return { command: spec.command, headers, body: spec.body };
}

/** A frame on the wire and what decoding it must give. */
interface FrameCase {
  readonly bytes: Uint8Array;
  readonly frame: StompFrame;
}

const countedFrame: fc.Arbitrary<FrameCase> = frameSpec.map((spec) => ({
  bytes: encodeFrame(spec.command, spec.headers, spec.body),
  frame: expected(spec),
}));

/** Without content-length the body runs to the first NUL, so these bodies have none. */
const terminatedFrame: fc.Arbitrary<FrameCase> = frameSpec.map((spec) => {
  const body = spec.body.map((b) => (b === 0 ? 1 : b));
  const head = encodeFrame(spec.command, spec.headers);
  return {
    bytes: concat([head.subarray(0, head.length - 1), body, Uint8Array.of(0)]),
    frame: { command: spec.command, headers: spec.headers, body },
  };
});

const EOLS = fc.array(fc.constantFrom("\n", "\r\n"), { maxLength: 3 });

/** Several frames with heart-beat EOLs before, between and after them. */
const stream = fc
  .record({
    cases: fc.array(fc.oneof(countedFrame, terminatedFrame), { minLength: 1, maxLength: 4 }),
    gaps: fc.array(EOLS, { minLength: 5, maxLength: 5 }),
  })
  .map(({ cases, gaps }) => {
    const utf8 = new TextEncoder();
    const used = gaps.slice(0, cases.length + 1);
    const parts: Uint8Array[] = [];
    cases.forEach((c, k) => {
      parts.push(utf8.encode((used[k] ?? []).join("")), c.bytes);
    });
    parts.push(utf8.encode((used[cases.length] ?? []).join("")));
    return {
      bytes: concat(parts),
      frames: cases.map((c) => c.frame),
      heartbeats: used.reduce((sum, g) => sum + g.length, 0),
    };
  });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed: they give empty chunks). */
function cut(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...offsets.map((o) => o % (bytes.length + 1)), bytes.length].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.slice(from, p));
    from = p;
  }
  return chunks;
}

interface Outcome {
  frames: StompFrame[];
  heartbeats: number;
  error: string | null;
}

/** Feeds chunks to a fresh decoder, checking the invariants that must hold after every push. */
function feed(chunks: readonly Uint8Array[], limits: Partial<StompLimits> = {}): Outcome {
  const decoder = new StompDecoder(limits);
  const out: Outcome = { frames: [], heartbeats: 0, error: null };
  let last: DecodeResult | null = null;
  for (const chunk of chunks) {
    last = decoder.push(chunk);
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(decoder.limits.maxFrameBytes);
    out.frames.push(...last.frames);
    out.heartbeats += last.heartbeats;
    if (!last.ok) {
      out.error = last.error.code;
      break;
    }
  }
  return out;
}

describe("STOMP codec properties", () => {
  test(
    "encode then decode returns the frame (escaped headers, binary bodies with NULs)",
    () => {
      fc.assert(
        fc.property(frameSpec, (spec) => {
          const result = new StompDecoder().push(encodeFrame(spec.command, spec.headers, spec.body));
          expect(result.ok).toBe(true);
          expect(result.frames).toEqual([expected(spec)]);
          expect(result.heartbeats).toBe(0);
        }),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    "a stream fed one byte per push (every offset a boundary) decodes to the same frames and heart-beats",
    () => {
      fc.assert(
        fc.property(stream, ({ bytes, frames, heartbeats }) => {
          const out = feed(Array.from(bytes, (b) => Uint8Array.of(b)));
          expect(out).toEqual({ frames, heartbeats, error: null });
        }),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    "a stream split at random offsets decodes to the same frames and heart-beats",
    () => {
      fc.assert(
        fc.property(
          stream,
          fc.array(fc.nat(), { maxLength: 12 }),
          ({ bytes, frames, heartbeats }, offsets) => {
            expect(feed(cut(bytes, offsets))).toEqual({ frames, heartbeats, error: null });
          },
        ),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    "several frames in one push all come out of that push, in order",
    () => {
      fc.assert(
        fc.property(stream, ({ bytes, frames, heartbeats }) => {
          const decoder = new StompDecoder();
          const result = decoder.push(bytes);
          expect(result).toEqual({ ok: true, frames, heartbeats });
          expect(decoder.bufferedBytes).toBe(0);
        }),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );

  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  /** Fragments that steer random input into every branch of the decoder. */
  const fragment = fc.oneof(
    fc.constantFrom(
      ...[
        "SEND\n",
        "CONNECT\n",
        "MESSAGE\r\n",
        "UNSUBSCRIBE",
        "\n",
        "\n\n",
        "\r\n",
        "\r",
        ":",
        "a:b\n",
        "\0",
        "\\",
        "\\c",
        "\\r",
        "\\t",
        "content-length:",
        "content-length:2\n",
        "7",
        "x",
      ].map(ascii),
      Uint8Array.of(0xc3, 0xa9),
      Uint8Array.of(0xff),
      Uint8Array.of(0xed, 0xa0, 0x80),
    ),
    fc.uint8Array({ minLength: 1, maxLength: 6 }),
  );
  const randomBytes = fc.array(fragment, { maxLength: 24 }).map(concat);
  /** Valid streams with a few insertions, overwrites and deletions: reaches the deep states random bytes miss. */
  const mutatedStream = fc
    .tuple(
      stream,
      fc.array(fc.tuple(fc.nat(), fragment, fc.constantFrom("insert", "overwrite", "delete")), {
        maxLength: 3,
      }),
    )
    .map(([{ bytes: valid }, mutations]) => {
      let bytes = valid;
      for (const [at, piece, how] of mutations) {
        const p = at % (bytes.length + 1);
        const keepFrom = how === "insert" ? p : Math.min(bytes.length, p + piece.length);
        const middle = how === "delete" ? new Uint8Array(0) : piece;
        bytes = concat([bytes.subarray(0, p), middle, bytes.subarray(keepFrom)]);
      }
      return bytes;
    });
  const hostileBytes = fc.oneof(randomBytes, mutatedStream);
  const hostileLimits = fc.oneof(
    fc.record({
      maxFrameBytes: fc.integer({ min: 1, max: 80 }),
      maxHeaders: fc.integer({ min: 1, max: 4 }),
      maxHeaderLineBytes: fc.integer({ min: 1, max: 20 }),
      maxBodyBytes: fc.integer({ min: 1, max: 40 }),
    }),
    fc.record({
      maxFrameBytes: fc.integer({ min: 60, max: 600 }),
      maxHeaders: fc.integer({ min: 2, max: 8 }),
      maxHeaderLineBytes: fc.integer({ min: 30, max: 120 }),
      maxBodyBytes: fc.integer({ min: 16, max: 64 }),
    }),
    fc.constant({}),
  );

  test(
    "hostile bytes: never a throw, buffering within maxFrameBytes, same verdict however the input is chunked",
    () => {
      const known = new Set<string>(STOMP_DECODE_ERROR_CODES.filter((c) => c !== "DECODER_FAULT"));
      fc.assert(
        fc.property(
          hostileBytes,
          hostileLimits,
          fc.array(fc.nat(), { maxLength: 8 }),
          (bytes, limits, offsets) => {
            const whole = feed([bytes], limits);
            const chunked = feed(cut(bytes, offsets), limits);
            expect(chunked).toEqual(whole);
            if (whole.error !== null) expect(known.has(whole.error)).toBe(true);
            const resolved = resolveStompLimits(limits);
            for (const f of whole.frames) {
              expect(f.headers.length).toBeLessThanOrEqual(resolved.maxHeaders);
              expect(f.body.length).toBeLessThanOrEqual(resolved.maxBodyBytes);
            }
          },
        ),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    "a dead decoder repeats its error and decodes nothing more",
    () => {
      fc.assert(
        fc.property(hostileBytes, hostileLimits, frameSpec, (bytes, limits, spec) => {
          const decoder = new StompDecoder(limits);
          const first = decoder.push(bytes);
          if (first.ok) return;
          const again = decoder.push(encodeFrame(spec.command, [], spec.body.subarray(0, 1)));
          expect(again.ok).toBe(false);
          expect(again.frames).toEqual([]);
          if (!again.ok) expect(again.error).toEqual(first.error);
          expect(decoder.bufferedBytes).toBe(0);
        }),
        RUNS,
      );
    },
    TIMEOUT_MS,
  );
});
