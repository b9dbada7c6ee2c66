import type { ServerWebSocket } from "bun";
import type { ErrorCode } from "../domain/errors.ts";
import type { Principal } from "../services/principal.ts";
import { errorFrame } from "./frames.ts";
import type { HubLease } from "./hub-registry.ts";
import type { StompDecoder } from "./stomp/decoder.ts";
import type { StompVersion } from "./stomp/frame.ts";

export interface RoomSubscription {
  readonly kind: "room";
  readonly id: string;
  readonly roomId: string;
  readonly topic: string;
  lease: HubLease | null;
  /** Subscribed to the topic (after any replay). */
  live: boolean;
  /** Ended while it was still being set up (unsubscribed, removed from the room, socket closed). */
  cancelled: boolean;
}

export interface NotificationsSubscription {
  readonly kind: "notifications";
  readonly id: string;
  readonly topic: string;
}

export interface ErrorsSubscription {
  readonly kind: "errors";
  readonly id: string;
}

export type Subscription = RoomSubscription | NotificationsSubscription | ErrorsSubscription;

/** Subscription id of /user/queue/errors frames for a client that did not subscribe to it. */
export const DEFAULT_ERRORS_SUBSCRIPTION = "errors";

/** Frames waiting per connection before the socket stops reading (TCP then pushes back on the client). */
const PAUSE_AT = 64;
const RESUME_AT = 16;

/**
 * The state of one WebSocket connection, kept in `ws.data`. Small on purpose: an idle connection holds this
 * object, its decoder (empty between frames) and its subscription map; heart-beats and limits are checked by
 * one process-wide sweep rather than a timer per connection.
 *
 * Frames of one connection are handled one at a time, in arrival order, so a client's messages are stored in
 * the order it sent them and every RECEIPT follows the effects of the frames before it.
 */
export class Connection {
  ws: ServerWebSocket<Connection> | null = null;
  phase: "handshake" | "open" | "closed" = "handshake";
  principal: Principal | null = null;
  version: StompVersion = "1.2";
  /** Negotiated heart-beats (0 = off). */
  inMs = 0;
  outMs = 0;
  lastReceivedAt: number;
  lastHeartbeatAt: number;
  readonly subscriptions = new Map<string, Subscription>();
  errorsSubscriptionId = DEFAULT_ERRORS_SUBSCRIPTION;
  /** Holds a reference on its user's broker channel (released when it closes). */
  holdsUserChannel = false;
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(
    readonly id: string,
    readonly decoder: StompDecoder,
    readonly openedAt: number,
    private readonly maxBufferedBytes: number,
  ) {
    this.lastReceivedAt = openedAt;
    this.lastHeartbeatAt = openedAt;
  }

  /** A getter rather than a field test, so callers re-read it after every await. */
  get isClosed(): boolean {
    return this.phase === "closed";
  }

  get isOpen(): boolean {
    return this.phase === "open";
  }

  get userId(): string | null {
    return this.principal?.userId ?? null;
  }

  /** Sends one frame; a client whose unsent backlog passes the limit is cut off. Returns whether it is still open. */
  send(frame: string): boolean {
    const ws = this.ws;
    if (ws === null || this.phase === "closed") return false;
    ws.sendText(frame);
    return this.checkBackpressure();
  }

  /** Closes a slow consumer (code 1008, reason "slow consumer"); true while the backlog is within the limit. */
  checkBackpressure(): boolean {
    const ws = this.ws;
    if (ws === null || this.phase === "closed") return false;
    if (ws.getBufferedAmount() <= this.maxBufferedBytes) return true;
    this.close(1008, "slow consumer");
    return false;
  }

  /** A protocol or authentication failure: ERROR frame, then close. */
  fail(code: ErrorCode, message?: string, receiptId?: string): void {
    const ws = this.ws;
    if (ws === null || this.phase === "closed") return;
    ws.sendText(errorFrame(code, message, receiptId));
    this.close(1008, code);
  }

  close(code: number, reason: string): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.ws?.close(code, reason);
  }

  /**
   * Runs `task` after every task queued before it. Reading from the socket pauses while many frames wait, so a
   * flooding client cannot make the queue grow without bound.
   */
  enqueue(task: () => Promise<void>, onError: (err: unknown) => void): void {
    this.#queued++;
    if (this.#queued === PAUSE_AT) this.ws?.pause();
    this.#tail = this.#tail
      .then(() => (this.phase === "closed" ? undefined : task()))
      .catch(onError)
      .finally(() => {
        this.#queued--;
        if (this.#queued === RESUME_AT && this.phase !== "closed") this.ws?.resume();
      });
  }

  /** Resolves when every queued frame has been handled. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
