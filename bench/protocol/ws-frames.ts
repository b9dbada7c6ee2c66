/**
 * Client-side WebSocket framing (RFC 6455) for the load generator: the upgrade request, masked client frames
 * (masking is mandatory client→server), frames built once and patched in place, and an incremental reader for the
 * server's unmasked frames that hands out views into the received chunk instead of copies.
 */
import { Buffer } from "node:buffer";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export function upgradeRequest(host: string, port: number, path: string, subprotocol?: string): string {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    (subprotocol ? `Sec-WebSocket-Protocol: ${subprotocol}\r\n` : "") +
    "\r\n"
  );
}

function headerSize(payloadLength: number): number {
  return payloadLength < 126 ? 6 : payloadLength < 65536 ? 8 : 14;
}

/**
 * A masked frame whose payload bytes can be rewritten in place (e.g. a timestamp), so a sender pays a few byte
 * writes per message instead of encoding and masking the whole frame.
 */
export class MaskedFrame {
  readonly bytes: Uint8Array;
  private readonly payloadAt: number;
  private readonly mask: Uint8Array;

  constructor(opcode: number, payload: Uint8Array | string, mask?: Uint8Array) {
    const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    const n = data.length;
    const h = headerSize(n);
    this.bytes = new Uint8Array(h + n);
    this.bytes[0] = 0x80 | opcode;
    if (n < 126) {
      this.bytes[1] = 0x80 | n;
    } else if (n < 65536) {
      this.bytes[1] = 0x80 | 126;
      this.bytes[2] = n >>> 8;
      this.bytes[3] = n & 0xff;
    } else {
      this.bytes[1] = 0x80 | 127;
      new DataView(this.bytes.buffer).setBigUint64(2, BigInt(n));
    }
    this.mask = mask ?? crypto.getRandomValues(new Uint8Array(4));
    this.bytes.set(this.mask, h - 4);
    this.payloadAt = h;
    for (let i = 0; i < n; i++) this.bytes[h + i] = data[i]! ^ this.mask[i & 3]!;
  }

  /** Overwrites ASCII `text` at payload offset `at`, masked. */
  patchAscii(at: number, text: string): void {
    const b = this.bytes;
    const base = this.payloadAt + at;
    for (let i = 0; i < text.length; i++) b[base + i] = text.charCodeAt(i) ^ this.mask[(at + i) & 3]!;
  }

  /** Writes `value` as exactly `width` zero-padded decimal digits at payload offset `at`, masked. */
  patchDigits(at: number, value: number, width: number): void {
    const b = this.bytes;
    let v = value;
    for (let i = width - 1; i >= 0; i--) {
      const digit = v % 10;
      v = (v - digit) / 10;
      b[this.payloadAt + at + i] = (48 + digit) ^ this.mask[(at + i) & 3]!;
    }
  }
}

export function maskedFrame(opcode: number, payload: Uint8Array | string): Uint8Array {
  return new MaskedFrame(opcode, payload).bytes;
}

/** Receives one complete server message: `payload[start, end)` is only valid during the call. */
export type OnWsMessage = (opcode: number, payload: Buffer, start: number, end: number) => void;

/**
 * Splits the server's byte stream into messages. Messages wholly inside a chunk are handed out as views (no copy);
 * only a message cut by a chunk boundary is copied into a carry buffer. Fragmented messages are reassembled.
 */
export class WsReader {
  private carry: Buffer | null = null;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  constructor(private readonly onMessage: OnWsMessage) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const len = buf.length;
    let p = 0;
    while (p + 2 <= len) {
      const b0 = buf[p]!;
      const b1 = buf[p + 1]!;
      let n = b1 & 0x7f;
      let h = 2;
      if (n === 126) {
        if (p + 4 > len) break;
        n = (buf[p + 2]! << 8) | buf[p + 3]!;
        h = 4;
      } else if (n === 127) {
        if (p + 10 > len) break;
        n = buf.readUInt32BE(p + 2) * 4294967296 + buf.readUInt32BE(p + 6);
        h = 10;
      }
      if (b1 & 0x80) h += 4; // servers must not mask, but tolerate the header size
      if (p + h + n > len) break;
      const start = p + h;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode >= 0x8 || (fin && opcode !== OP_CONTINUATION && this.fragments.length === 0)) {
        this.onMessage(opcode, buf, start, start + n);
      } else {
        if (opcode !== OP_CONTINUATION) this.fragmentOpcode = opcode;
        this.fragments.push(Buffer.from(buf.subarray(start, start + n)));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.onMessage(this.fragmentOpcode, whole, 0, whole.length);
        }
      }
      p = start + n;
    }
    if (p < len) this.carry = Buffer.from(buf.subarray(p));
  }
}
