import type { ServerWebSocket } from "bun";
import type { ErrorCode } from "../domain/errors.ts";
import type { AccessClaims } from "../services/access-tokens.ts";
import type { Principal } from "../services/principal.ts";
import { errorFrame } from "./frames.ts";
import type { HubLease } from "./hub-registry.ts";
import type { StompDecoder } from "./stomp/decoder.ts";
import type { StompVersion } from "./stomp/frame.ts";

/**
 * A SUBSCRIBE to a room. Its topic (`roomTopic(roomId, id)`) is derived where it is needed rather than kept: the
 * socket is subscribed and unsubscribed once each, and a string per idle subscription is memory for nothing. Once
 * the hub is leased, `id` and `roomId` are the hub's copies of the same strings (one per room and subscription id
 * rather than one per connection).
 */
export interface RoomSubscription {
  readonly kind: "room";
  id: string;
  roomId: string;
  lease: HubLease | null;
  /** Subscribed to the topic (after any replay). */
  live: boolean;
  /** Ended while it was still being set up (unsubscribed, removed from the room, socket closed). */
  cancelled: boolean;
}

/** A SUBSCRIBE to /user/queue/notifications; its topic is `userTopic(userId, id)`. */
export interface NotificationsSubscription {
  readonly kind: "notifications";
  readonly id: string;
  /** Subscribed with `skip-followed:true`: no `message` notice for a room this connection follows live. */
  readonly skipFollowed: boolean;
}

export interface ErrorsSubscription {
  readonly kind: "errors";
  readonly id: string;
}

export type Subscription = RoomSubscription | NotificationsSubscription | ErrorsSubscription;

/** Subscription id of /user/queue/errors frames for a client that did not subscribe to it. */
export const DEFAULT_ERRORS_SUBSCRIPTION = "errors";

/**
 * Frames waiting or in flight per connection (a pipelined SEND counts until it has replied) before the socket
 * stops reading (TCP then pushes back on the client).
 */
const PAUSE_AT = 64;
const RESUME_AT = 16;

const SETTLED: Promise<void> = Promise.resolve();

/**
 * A connection's subscriptions by id, with the part of the Map interface the handlers use: nothing before the
 * first SUBSCRIBE, the subscription itself while there is one (what an idle client nearly always has), a plain
 * array only from the second. A connection has a handful of subscriptions (at most wsMaxSubscriptions), and even
 * an array of one costs a cell and its storage, which matters when every idle socket holds it. Iteration is in
 * insertion order, like a Map's; `values()` iterates a snapshot, so a caller may end subscriptions while it
 * iterates.
 */
export class Subscriptions {
  #list: Subscription | Subscription[] | null = null;

  get size(): number {
    const list = this.#list;
    return list === null ? 0 : Array.isArray(list) ? list.length : 1;
  }

  get(id: string): Subscription | undefined {
    const list = this.#list;
    if (list === null) return undefined;
    if (!Array.isArray(list)) return list.id === id ? list : undefined;
    for (const sub of list) if (sub.id === id) return sub;
    return undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds the subscription, or replaces the one with the same id in its place. */
  set(id: string, sub: Subscription): this {
    const list = this.#list;
    if (list === null) this.#list = sub;
    else if (!Array.isArray(list)) this.#list = list.id === id ? sub : [list, sub];
    else {
      const at = list.findIndex((s) => s.id === id);
      if (at >= 0) list[at] = sub;
      else list.push(sub);
    }
    return this;
  }

  delete(id: string): boolean {
    const list = this.#list;
    if (list === null) return false;
    if (!Array.isArray(list)) {
      if (list.id !== id) return false;
      this.#list = null;
      return true;
    }
    const at = list.findIndex((s) => s.id === id);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length === 1) this.#list = list[0] ?? null;
    return true;
  }

  /** Whether one of these is a live subscription to the room's stream. */
  followsRoom(roomId: string): boolean {
    const list = this.#list;
    if (list === null) return false;
    if (!Array.isArray(list)) return list.kind === "room" && list.live && list.roomId === roomId;
    for (const sub of list) if (sub.kind === "room" && sub.live && sub.roomId === roomId) return true;
    return false;
  }

  /** The id of the latest /user/queue/errors subscription, if any: where error frames go. */
  errorsId(): string | undefined {
    const list = this.#list;
    if (list === null) return undefined;
    if (!Array.isArray(list)) return list.kind === "errors" ? list.id : undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]?.kind === "errors") return list[i]?.id;
    return undefined;
  }

  values(): IterableIterator<Subscription> {
    const list = this.#list;
    return (list === null ? NO_SUBSCRIPTIONS : Array.isArray(list) ? [...list] : [list]).values();
  }
}

const NO_SUBSCRIPTIONS: readonly Subscription[] = Object.freeze([]);

/**
 * The state of one WebSocket connection, kept in `ws.data`. Small on purpose, because every idle socket holds
 * one: no timer (heart-beats, silent peers, slow consumers and handshake timeouts are checked by one
 * process-wide sweep), no decoder between frames (the gateway lends a spare one and a connection keeps a decoder
 * only while a frame of it is incomplete), no Map, and no promise chain while no frame is being handled.
 *
 * Frames of one connection are handled in arrival order: each task starts after the one before it has finished,
 * except that a message SEND finishes as soon as its message is handed to the store, which keeps that order
 * (`replyInOrder`). Its reply follows, after the replies of the frames before it, and every other frame waits for
 * those replies (`repliesSent`). So a client's messages are stored in the order it sent them, consecutive SENDs
 * share commits instead of waiting one commit each, and every RECEIPT follows the effects of the frames before it.
 */
export class Connection {
  ws: ServerWebSocket<Connection> | null = null;
  phase: "handshake" | "open" | "closed" = "handshake";
  /**
   * The access token's user and session, from the moment CONNECT has verified the token's signature: what binds
   * the connection to its user here and what a revocation of that session is matched against, also while CONNECT
   * still reads whether the session is live.
   */
  claims: AccessClaims | null = null;
  /** Set once CONNECT has read the session and the account live; the same ids as `claims`. */
  principal: Principal | null = null;
  /** The negotiated version; frames after CONNECTED are decoded with its escaping. */
  version: StompVersion = "1.2";
  /** The decoder holding an incomplete frame of this connection (or the dead one that failed it); else null. */
  decoder: StompDecoder | null = null;
  /** Negotiated heart-beats (0 = off). */
  inMs = 0;
  outMs = 0;
  lastReceivedAt: number;
  lastHeartbeatAt: number;
  readonly subscriptions = new Subscriptions();
  /** Holds a reference on its user's broker channel (released when it closes). */
  holdsUserChannel = false;
  /** Its slot in the ConnectionRegistry (which alone writes it); -1 while not registered. */
  registrySlot = -1;
  /** The last queued task while any is queued; null when idle. */
  #tail: Promise<void> | null = null;
  /** The last pipelined frame's reply while any is outstanding; null when none. */
  #replies: Promise<void> | null = null;
  #queued = 0;

  constructor(
    readonly id: string,
    readonly openedAt: number,
    private readonly maxBufferedBytes: number,
  ) {
    this.lastReceivedAt = openedAt;
    this.lastHeartbeatAt = openedAt;
  }

  /**
   * The subscription id of /user/queue/errors frames: the latest errors subscription's, else the default. Derived
   * rather than kept, since errors are rare and every idle connection would carry the field.
   */
  get errorsSubscriptionId(): string {
    return this.subscriptions.errorsId() ?? DEFAULT_ERRORS_SUBSCRIPTION;
  }

  /** A getter rather than a field test, so callers re-read it after every await. */
  get isClosed(): boolean {
    return this.phase === "closed";
  }

  get isOpen(): boolean {
    return this.phase === "open";
  }

  get userId(): string | null {
    return this.claims?.userId ?? null;
  }

  /** Sends one frame; a client whose unsent backlog passes the limit is cut off. Returns whether it is still open. */
  send(frame: string): boolean {
    const ws = this.ws;
    if (ws === null || this.phase === "closed") return false;
    // sendText returns the bytes written when the socket took the whole frame at once: nothing was waiting, so
    // the backlog did not grow and asking for it (a native call per frame) can be skipped. -1 means the frame was
    // queued behind a backlog, 0 that it was dropped.
    if (ws.sendText(frame) > 0) return true;
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
    this.#hold();
    const tail: Promise<void> = (this.#tail ?? SETTLED)
      .then(() => (this.phase === "closed" ? undefined : task()))
      .catch(onError)
      .finally(() => {
        if (this.#tail === tail) this.#tail = null;
        this.#release();
      });
    this.#tail = tail;
  }

  /**
   * The second half of a pipelined frame (a SEND whose message is already handed to the store in order): the
   * next frame's task may start now, while `reply` (what `finished` resolves to: its RECEIPT or its error) is
   * sent only after every earlier pipelined frame's reply, so replies keep frame order. It counts as a waiting
   * frame until it has replied. `finished` must not reject.
   */
  replyInOrder(finished: Promise<() => void>, onError: (err: unknown) => void): void {
    this.#hold();
    const previous = this.#replies ?? SETTLED;
    const tail: Promise<void> = Promise.all([finished, previous])
      .then(([reply]) => {
        if (this.phase !== "closed") reply();
      })
      .catch(onError)
      .finally(() => {
        if (this.#replies === tail) this.#replies = null;
        this.#release();
      });
    this.#replies = tail;
  }

  /** Resolves once every pipelined frame has replied; what any other frame waits for before it is handled. */
  repliesSent(): Promise<void> | null {
    return this.#replies;
  }

  #hold(): void {
    this.#queued++;
    if (this.#queued === PAUSE_AT) this.ws?.pause();
  }

  #release(): void {
    this.#queued--;
    if (this.#queued === RESUME_AT && this.phase !== "closed") this.ws?.resume();
  }
}
