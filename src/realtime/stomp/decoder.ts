import { Buffer } from "node:buffer";
import type { StompDecodeError, StompDecodeErrorCode } from "./decode-error.ts";
import {
  CLIENT_COMMANDS,
  SERVER_COMMANDS,
  type StompCommand,
  type StompFrame,
  type StompHeader,
  type StompVersion,
  header,
  headersEscaped,
} from "./frame.ts";
import { parseHeaderLine } from "./header-line.ts";
import { resolveStompLimits, type StompLimits } from "./limits.ts";

/** Which commands a decoder lets through: a server reads client frames, a client reads server frames. */
export type AcceptedCommands = "client" | "server" | "any";

export type DecodeResult =
  | {
      readonly ok: true;
      /** Frames completed by this chunk, in order. */
      readonly frames: readonly StompFrame[];
      /** EOLs received between frames (heart-beats, and the optional EOLs after a frame's NUL). */
      readonly heartbeats: number;
    }
  | {
      readonly ok: false;
      /** Frames that completed in this chunk before the fault; they are well-formed. */
      readonly frames: readonly StompFrame[];
      readonly heartbeats: number;
      readonly error: StompDecodeError;
    };

const LF = 10;
const CR = 13;
const NUL = 0;
const ZERO = 48;
const NINE = 57;

/** Longest command ("UNSUBSCRIBE") plus an optional CR: a longer command line is rejected without buffering. */
const MAX_COMMAND_LINE = 12;

const BETWEEN = 0;
const HEAD = 1;
const COUNTED_BODY = 2;
const TERMINATED_BODY = 3;
const DEAD = 4;

/** Returned as the next index by a reader that failed, which ends the scan of the chunk. */
const STOP = Number.MAX_SAFE_INTEGER;

const EMPTY_BODY = new Uint8Array(0);
const NO_FRAMES: readonly StompFrame[] = Object.freeze([]);

function commandTable(list: readonly StompCommand[]): ReadonlyMap<string, StompCommand> {
  return new Map(list.map((c) => [c, c]));
}

/** Built once and never changed: a decoder only points at its table, so it costs no map of its own. */
const COMMAND_TABLES: Readonly<Record<AcceptedCommands, ReadonlyMap<string, StompCommand>>> = Object.freeze({
  client: commandTable(CLIENT_COMMANDS),
  server: commandTable(SERVER_COMMANDS),
  any: commandTable([...CLIENT_COMMANDS, ...SERVER_COMMANDS]),
});

function copyOf(src: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(src.subarray(from, to));
  return out;
}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (Buffer.isBuffer(chunk)) return chunk;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Incremental STOMP decoder for one connection. Feed it each WebSocket message (or TCP read) as it arrives; a frame
 * may be split at any byte and a chunk may hold several frames. Guarantees:
 * - `push` never throws; a fault is returned as `{ ok: false, error }` and the decoder stays dead after it.
 * - it holds at most the frame in progress, bounded by `maxFrameBytes` (see `bufferedBytes`), and rejects a limit
 *   as soon as the bytes received prove it broken, without waiting for the rest of the frame;
 * - work is linear in the input: a frame trickling in one byte per push is never rescanned.
 * Frames and their bodies are owned copies; the chunk may be reused by the caller once `push` returns.
 */
export class StompDecoder {
  /**
   * The version whose escaping applies to frames decoded from now on. A server starts at "1.2" (CONNECT is never
   * unescaped anyway) and sets the negotiated version after it answers CONNECT.
   */
  version: StompVersion;
  readonly limits: StompLimits;
  private readonly commands: ReadonlyMap<string, StompCommand>;

  private phase = BETWEEN;
  private failure: StompDecodeError | null = null;
  /** A CR seen between frames whose LF has not arrived yet. */
  private pendingCr = false;
  /** Bytes of the frame in progress received so far. */
  private frameBytes = 0;
  /** Start of a line that did not end in its chunk; grows to at most the line limit. */
  private line: Buffer | null = null;
  private lineLength = 0;
  private command: StompCommand | null = null;
  /** The version whose escapes apply to the frame in progress; null for CONNECT/CONNECTED and 1.0. */
  private unescapeFor: StompVersion | null = null;
  private headers: StompHeader[] = [];
  private contentLength = 0;
  /** Body bytes kept across chunks; for a counted body it has the exact final size. */
  private body: Uint8Array | null = null;
  private bodyLength = 0;

  constructor(
    limits: Partial<StompLimits> = {},
    version: StompVersion = "1.2",
    accept: AcceptedCommands = "any",
  ) {
    this.limits = resolveStompLimits(limits);
    this.version = version;
    this.commands = COMMAND_TABLES[accept];
  }

  /** Bytes the decoder holds for the frame in progress (0 between frames and once dead); never above maxFrameBytes. */
  get bufferedBytes(): number {
    if (this.phase === BETWEEN) return this.pendingCr ? 1 : 0;
    if (this.phase === DEAD) return 0;
    return this.frameBytes;
  }

  /**
   * Healthy and between frames, holding no byte of a next one: nothing would be lost if the next chunk went to
   * another decoder of the same version. Lets a server keep one spare decoder for its idle connections.
   */
  get atFrameBoundary(): boolean {
    return this.phase === BETWEEN && !this.pendingCr;
  }

  /** The fault that killed this decoder, or null while it is healthy. */
  get error(): StompDecodeError | null {
    return this.failure;
  }

  push(chunk: Uint8Array | string): DecodeResult {
    if (this.failure !== null) return { ok: false, frames: NO_FRAMES, heartbeats: 0, error: this.failure };
    const frames: StompFrame[] = [];
    let heartbeats = 0;
    try {
      heartbeats = this.run(asBuffer(chunk), frames);
    } catch {
      this.fail("DECODER_FAULT", "internal decoder fault");
    }
    if (this.failure !== null) return { ok: false, frames, heartbeats, error: this.failure };
    return { ok: true, frames, heartbeats };
  }

  /** Consumes `data` entirely (or up to a fault) and returns the heart-beats seen. */
  private run(data: Buffer, frames: StompFrame[]): number {
    const n = data.length;
    let i = 0;
    let heartbeats = 0;
    while (i < n) {
      switch (this.phase) {
        case BETWEEN: {
          const b = data[i];
          if (this.pendingCr) {
            if (b !== LF) {
              this.fail("MALFORMED_FRAME", "CR not followed by LF");
              return heartbeats;
            }
            this.pendingCr = false;
            heartbeats++;
            i++;
          } else if (b === LF) {
            heartbeats++;
            i++;
          } else if (b === CR) {
            this.pendingCr = true;
            i++;
          } else {
            this.phase = HEAD;
          }
          break;
        }
        case HEAD:
          i = this.readLine(data, i, n);
          break;
        case COUNTED_BODY:
          i = this.readCountedBody(data, i, n, frames);
          break;
        case TERMINATED_BODY:
          i = this.readTerminatedBody(data, i, n, frames);
          break;
        default:
          return heartbeats;
      }
    }
    return heartbeats;
  }

  /** Reads (the rest of) one command or header line and acts on it if it ended in this chunk. */
  private readLine(data: Buffer, i: number, n: number): number {
    const lf = data.indexOf(LF, i);
    const end = lf < 0 ? n : lf;
    const room = this.command === null ? MAX_COMMAND_LINE : this.limits.maxHeaderLineBytes + 1;
    const added = end - i + (lf < 0 ? 0 : 1);
    const lineOver = this.lineLength + (end - i) > room ? room - this.lineLength : STOP;
    const frameOver =
      this.frameBytes + added > this.limits.maxFrameBytes
        ? this.limits.maxFrameBytes - this.frameBytes
        : STOP;
    if (lineOver !== STOP || frameOver !== STOP) {
      // The limit broken first in byte order is reported, so the verdict never depends on how input was chunked.
      if (frameOver < lineOver) this.tooLarge();
      else if (this.command === null) this.fail("UNKNOWN_COMMAND", "unknown command");
      else this.fail("HEADER_TOO_LONG", `header line longer than ${this.limits.maxHeaderLineBytes} bytes`);
      return STOP;
    }
    this.frameBytes += added;
    if (lf < 0) {
      this.keepLine(data, i, n);
      return n;
    }
    if (this.lineLength === 0) {
      this.onLine(data, i, lf > i && data[lf - 1] === CR ? lf - 1 : lf);
    } else {
      this.keepLine(data, i, lf);
      const line = this.line!;
      const length = this.lineLength;
      this.lineLength = 0;
      this.onLine(line, 0, line[length - 1] === CR ? length - 1 : length);
    }
    return lf + 1;
  }

  private keepLine(data: Buffer, from: number, to: number): void {
    const needed = this.lineLength + (to - from);
    if (this.line === null || this.line.length < needed) {
      const room = this.command === null ? MAX_COMMAND_LINE : this.limits.maxHeaderLineBytes + 1;
      const cap = Math.min(room, this.limits.maxFrameBytes);
      const grown = Buffer.alloc(Math.min(cap, Math.max(64, needed * 2)));
      if (this.line !== null) this.line.copy(grown, 0, 0, this.lineLength);
      this.line = grown;
    }
    data.copy(this.line, this.lineLength, from, to);
    this.lineLength = needed;
  }

  /** One complete line, line end stripped. */
  private onLine(src: Buffer, from: number, to: number): void {
    if (this.command === null) {
      const command = this.commands.get(src.toString("latin1", from, to));
      if (command === undefined) {
        this.fail("UNKNOWN_COMMAND", "unknown command");
        return;
      }
      this.command = command;
      this.unescapeFor = headersEscaped(command, this.version) ? this.version : null;
      return;
    }
    if (from === to) {
      this.endOfHeaders();
      return;
    }
    if (to - from > this.limits.maxHeaderLineBytes) {
      this.fail("HEADER_TOO_LONG", `header line longer than ${this.limits.maxHeaderLineBytes} bytes`);
      return;
    }
    if (this.headers.length >= this.limits.maxHeaders) {
      this.fail("TOO_MANY_HEADERS", `more than ${this.limits.maxHeaders} headers`);
      return;
    }
    const parsed = parseHeaderLine(src, from, to, this.unescapeFor);
    if ("code" in parsed) this.fail(parsed.code, parsed.message);
    else this.headers.push(parsed);
  }

  private endOfHeaders(): void {
    const declared = header({ headers: this.headers }, "content-length");
    if (declared === undefined) {
      this.phase = TERMINATED_BODY;
      return;
    }
    if (declared.length === 0) {
      this.fail("INVALID_CONTENT_LENGTH", "content-length is empty");
      return;
    }
    let length = 0;
    for (let k = 0; k < declared.length; k++) {
      const c = declared.charCodeAt(k);
      if (c < ZERO || c > NINE) {
        this.fail("INVALID_CONTENT_LENGTH", "content-length is not a number");
        return;
      }
      // Stop accumulating past the limit so an absurd digit string cannot lose precision into a small number.
      if (length <= this.limits.maxBodyBytes) length = length * 10 + (c - ZERO);
    }
    if (length > this.limits.maxBodyBytes) {
      this.fail("BODY_TOO_LARGE", `body larger than ${this.limits.maxBodyBytes} bytes`);
      return;
    }
    if (this.frameBytes + length + 1 > this.limits.maxFrameBytes) {
      this.tooLarge();
      return;
    }
    this.contentLength = length;
    this.phase = COUNTED_BODY;
  }

  private readCountedBody(data: Buffer, i: number, n: number, frames: StompFrame[]): number {
    const missing = this.contentLength - this.bodyLength;
    if (missing > 0) {
      const take = Math.min(missing, n - i);
      if (this.body === null) {
        this.body = take === missing ? copyOf(data, i, i + take) : new Uint8Array(this.contentLength);
        if (take < missing) this.body.set(data.subarray(i, i + take));
      } else {
        this.body.set(data.subarray(i, i + take), this.bodyLength);
      }
      this.bodyLength += take;
      this.frameBytes += take;
      i += take;
      if (i >= n) return n;
    }
    if (data[i] !== NUL) {
      this.fail("MALFORMED_FRAME", "no NUL after the content-length body");
      return STOP;
    }
    this.emit(frames, this.body ?? EMPTY_BODY);
    return i + 1;
  }

  private readTerminatedBody(data: Buffer, i: number, n: number, frames: StompFrame[]): number {
    const nul = data.indexOf(NUL, i);
    const end = nul < 0 ? n : nul;
    const total = this.bodyLength + (end - i);
    const added = end - i + (nul < 0 ? 0 : 1);
    const bodyOver = total > this.limits.maxBodyBytes ? this.limits.maxBodyBytes - this.bodyLength : STOP;
    const frameOver =
      this.frameBytes + added > this.limits.maxFrameBytes
        ? this.limits.maxFrameBytes - this.frameBytes
        : STOP;
    if (bodyOver !== STOP || frameOver !== STOP) {
      // As for lines: the limit broken at the earlier byte wins, whatever the chunking.
      if (frameOver < bodyOver) this.tooLarge();
      else this.fail("BODY_TOO_LARGE", `body larger than ${this.limits.maxBodyBytes} bytes`);
      return STOP;
    }
    this.frameBytes += added;
    if (nul >= 0 && this.bodyLength === 0) {
      this.emit(frames, i === nul ? EMPTY_BODY : copyOf(data, i, nul));
      return nul + 1;
    }
    if (this.body === null || this.body.length < total) {
      const cap = Math.min(this.limits.maxBodyBytes, this.limits.maxFrameBytes);
      const grown = new Uint8Array(Math.min(cap, Math.max(256, total * 2)));
      if (this.body !== null) grown.set(this.body.subarray(0, this.bodyLength));
      this.body = grown;
    }
    this.body.set(data.subarray(i, end), this.bodyLength);
    this.bodyLength = total;
    if (nul < 0) return n;
    this.emit(frames, this.body.slice(0, total));
    return nul + 1;
  }

  private emit(frames: StompFrame[], body: Uint8Array): void {
    frames.push({ command: this.command!, headers: this.headers, body });
    this.phase = BETWEEN;
    this.command = null;
    this.headers = [];
    this.frameBytes = 0;
    this.contentLength = 0;
    this.body = null;
    this.bodyLength = 0;
  }

  private tooLarge(): void {
    this.fail("FRAME_TOO_LARGE", `frame larger than ${this.limits.maxFrameBytes} bytes`);
  }

  /** Kills the decoder and releases what it held. */
  private fail(code: StompDecodeErrorCode, message: string): void {
    this.failure = { code, message };
    this.phase = DEAD;
    this.line = null;
    this.lineLength = 0;
    this.body = null;
    this.headers = [];
    this.frameBytes = 0;
  }
}
