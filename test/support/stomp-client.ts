/**
 * A small raw STOMP-over-WebSocket client for the integration suite, built on the project's own codec: it
 * records every frame and heart-beat it receives, so tests can wait for a frame matching a predicate and also
 * assert what did NOT arrive.
 */
import { encodeFrame } from "../../src/realtime/stomp/encoder.ts";
import { header, type StompFrame, type StompHeader } from "../../src/realtime/stomp/frame.ts";
import { StompDecoder } from "../../src/realtime/stomp/decoder.ts";

export interface OpenOptions {
  readonly protocols?: readonly string[];
  readonly origin?: string;
}

export interface ConnectOptions {
  readonly via?: "header" | "passcode";
  readonly heartBeat?: string;
  readonly acceptVersion?: string;
  readonly command?: "CONNECT" | "STOMP";
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

const text = new TextDecoder();

export class StompTestClient {
  readonly frames: StompFrame[] = [];
  /** Arrival times of heart-beat EOLs. */
  readonly heartbeats: number[] = [];
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;
  /** For each of `frames`, the ordinal of the WebSocket message it came in (one may carry several frames). */
  readonly arrivals: number[] = [];
  #wsMessages = 0;
  #decoder = new StompDecoder(
    { maxFrameBytes: 16 << 20, maxBodyBytes: 16 << 20, maxHeaders: 1000 },
    "1.2",
    "server",
  );
  #wake: Array<() => void> = [];
  #receipts = 0;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (e) => {
        this.closeInfo = { code: e.code, reason: e.reason };
        this.#notify();
        resolve(this.closeInfo);
      });
    });
    ws.addEventListener("message", (e) => {
      const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
      this.#wsMessages++;
      const r = this.#decoder.push(data);
      for (let i = 0; i < r.heartbeats; i++) this.heartbeats.push(Date.now());
      this.frames.push(...r.frames);
      for (const _ of r.frames) this.arrivals.push(this.#wsMessages);
      if (!r.ok) throw new Error(`client could not decode a server frame: ${r.error.code}`);
      this.#notify();
    });
  }

  /** Opens the WebSocket (no STOMP yet). Rejects when the upgrade is refused. */
  static open(wsUrl: string, opts: OpenOptions = {}): Promise<StompTestClient> {
    const ws = new WebSocket(wsUrl, {
      protocols: opts.protocols ? [...opts.protocols] : undefined,
      headers: opts.origin ? { origin: opts.origin } : undefined,
    } as unknown as string[]);
    return new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(new StompTestClient(ws)), { once: true });
      ws.addEventListener("error", () => reject(new Error("WebSocket upgrade failed")), { once: true });
    });
  }

  /** Opens and CONNECTs; resolves with CONNECTED or rejects with the ERROR's code. */
  static async connect(
    wsUrl: string,
    token: string,
    opts: ConnectOptions & OpenOptions = {},
  ): Promise<StompTestClient> {
    const c = await StompTestClient.open(wsUrl, opts);
    await c.connect(token, opts);
    return c;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends CONNECT and waits for CONNECTED (returned) or ERROR (thrown as an Error whose message is the code). */
  async connect(token: string, opts: ConnectOptions = {}): Promise<StompFrame> {
    const headers: StompHeader[] = [
      ["accept-version", opts.acceptVersion ?? "1.2"],
      ["host", "parley"],
      ["heart-beat", opts.heartBeat ?? "0,0"],
    ];
    if ((opts.via ?? "header") === "header") headers.push(["Authorization", `Bearer ${token}`]);
    else headers.push(["passcode", token]);
    this.send(opts.command ?? "CONNECT", headers);
    const f = await this.waitFor((x) => x.command === "CONNECTED" || x.command === "ERROR");
    if (f.command === "ERROR") throw new Error(header(f, "code") ?? "ERROR");
    return f;
  }

  send(
    command: Parameters<typeof encodeFrame>[0],
    headers: readonly StompHeader[] = [],
    body?: string,
  ): void {
    this.ws.send(text.decode(encodeFrame(command, headers, body)));
  }

  sendRaw(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  subscribe(destination: string, id: string, extra: readonly StompHeader[] = []): void {
    this.send("SUBSCRIBE", [["destination", destination], ["id", id], ...extra]);
  }

  /** SUBSCRIBE with a receipt; resolves with the RECEIPT, or the /user/queue/errors MESSAGE answering it. */
  subscribeWithReceipt(
    destination: string,
    id: string,
    extra: readonly StompHeader[] = [],
  ): Promise<StompFrame> {
    const receipt = `r-${++this.#receipts}`;
    this.subscribe(destination, id, [...extra, ["receipt", receipt]]);
    return this.waitFor((f) => answers(f, receipt));
  }

  /** SEND with a receipt; resolves with the RECEIPT, or the /user/queue/errors MESSAGE answering it. */
  sendWithReceipt(
    destination: string,
    body: unknown,
    extra: readonly StompHeader[] = [],
  ): Promise<StompFrame> {
    const receipt = `r-${++this.#receipts}`;
    this.send(
      "SEND",
      [["destination", destination], ["content-type", "application/json"], ["receipt", receipt], ...extra],
      JSON.stringify(body),
    );
    return this.waitFor((f) => answers(f, receipt));
  }

  /** The first frame (received so far or later) at index >= from that matches; rejects after timeoutMs. */
  async waitFor(pred: (f: StompFrame) => boolean, timeoutMs = 3000, from = 0): Promise<StompFrame> {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.frames.length; i++) {
        const f = this.frames[i]!;
        if (pred(f)) return f;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms (have ${this.describe()})`);
      if (this.closeInfo !== null)
        throw new Error(
          `socket closed (${this.closeInfo.code}) before a matching frame; have ${this.describe()}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `cond` holds, re-checking whenever anything arrives; rejects after timeoutMs. */
  async until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` MESSAGE frames of subscription `subId` have arrived; returns their JSON bodies. */
  async waitForMessages(
    subId: string,
    count: number,
    timeoutMs = 5000,
  ): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.messages(subId);
      if (got.length >= count) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${got.length}/${count} messages on ${subId}`);
      await this.until(() => this.messages(subId).length >= count, left).catch(() => {});
    }
  }

  /** MESSAGE frames of one subscription, as parsed JSON bodies. */
  messages(subId: string): Array<Record<string, unknown>> {
    return this.frames
      .filter((f) => f.command === "MESSAGE" && header(f, "subscription") === subId)
      .map((f) => JSON.parse(text.decode(f.body)) as Record<string, unknown>);
  }

  framesOf(subId: string): StompFrame[] {
    return this.frames.filter((f) => f.command === "MESSAGE" && header(f, "subscription") === subId);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  describe(): string {
    return this.frames
      .map((f) => `${f.command}(${f.headers.map(([k, v]) => `${k}=${v}`).join(",")})`)
      .join(" ")
      .slice(-2000);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }
}

/** The RECEIPT for `receipt`, or an error MESSAGE echoing it. */
export function answers(f: StompFrame, receipt: string): boolean {
  return (
    (f.command === "RECEIPT" || f.command === "MESSAGE" || f.command === "ERROR") &&
    header(f, "receipt-id") === receipt
  );
}

export function bodyJson(f: StompFrame): Record<string, unknown> {
  return JSON.parse(text.decode(f.body)) as Record<string, unknown>;
}

export { header };

/** One frame as the text of a WebSocket message; several joined make one message carrying them all. */
export function frameText(
  command: Parameters<typeof encodeFrame>[0],
  headers: readonly StompHeader[] = [],
  body?: string,
): string {
  return text.decode(encodeFrame(command, headers, body));
}

/** A `SEND /pub/message` frame with a receipt, as text (see frameText). */
export function messageSendText(roomId: string, message: string, receipt: string): string {
  return frameText(
    "SEND",
    [
      ["destination", "/pub/message"],
      ["content-type", "application/json"],
      ["receipt", receipt],
    ],
    JSON.stringify({ roomId, message }),
  );
}
