import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { Logger } from "pino";
import { ERROR_CATALOG } from "../domain/errors.ts";
import type { Broker } from "../ports/broker.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdGenerator } from "../ports/ids.ts";
import type { Presence } from "../ports/presence.ts";
import type { Services } from "../services/services.ts";
import type { BrokerEvents } from "./broker-events.ts";
import { handleConnect } from "./connect-handler.ts";
import { Connection } from "./connection.ts";
import { ConnectionRegistry } from "./connection-registry.ts";
import type { GatewayConfig, GatewayContext } from "./context.ts";
import { frameIds } from "./frame-ids.ts";
import { receiptFrame } from "./frames.ts";
import { chooseSubprotocol, originAllowed } from "./handshake-rules.ts";
import { sweepIntervalMs } from "./heartbeat.ts";
import { HubRegistry } from "./hub-registry.ts";
import { LocalUsers } from "./local-users.ts";
import { NOTIFICATIONS_LINGER_MS, Notifications } from "./notifications.ts";
import { PresenceTracker } from "./presence-tracker.ts";
import { handleSend, isPipelined, TYPING_THROTTLE_MS } from "./send-handler.ts";
import type { StompDecodeError } from "./stomp/decode-error.ts";
import { type DecodeResult, StompDecoder } from "./stomp/decoder.ts";
import { header, type StompFrame } from "./stomp/frame.ts";
import { resolveStompLimits, type StompLimits } from "./stomp/limits.ts";
import {
  endRoomSubscription,
  endSubscription,
  handleSubscribe,
  handleUnsubscribe,
} from "./subscribe-handler.ts";
import { UserChannels } from "./user-channels.ts";
import type { UserNames } from "./user-names.ts";
import type { UserNotice } from "./user-notice.ts";
import { websocketOptions } from "./websocket-options.ts";

export const WS_PATH = "/ws";

/** A socket that has not sent CONNECT by then is closed. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * How often the sweep asks each socket for its unsent backlog (a native call per socket): about once a second,
 * a slice of the sockets per sweep. Asking every socket on every sweep (4× a second and more) cost 3 % of the
 * serving thread with 15,000 sockets; Bun's own backpressureLimit is the hard bound in between.
 */
const BACKPRESSURE_CHECK_MS = 1000;

export interface GatewayOptions {
  readonly services: Services;
  readonly broker: Broker;
  readonly presence: Presence;
  readonly events: BrokerEvents;
  readonly names: UserNames;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly config: GatewayConfig;
  /** `server` header of CONNECTED, e.g. "Parley/0.1.0". */
  readonly serverName: string;
}

/**
 * The STOMP 1.2 gateway at /ws: Bun websocket handlers, the upgrade, and the process-wide sweep (heart-beats,
 * silent peers, slow consumers, handshake timeouts). Frames are handled per connection in order
 * (connection.ts); delivery of room events is the hubs' (room-hub.ts).
 */
export class Gateway {
  readonly websocket: WebSocketHandler<Connection>;
  readonly #ctx: GatewayContext;
  /** Per-user state of this process, shared by the connection registry, the user channels and presence. */
  readonly #users = new LocalUsers();
  readonly #connections = new ConnectionRegistry(this.#users);
  readonly #hubs: HubRegistry;
  readonly #presence: PresenceTracker;
  readonly #opts: GatewayOptions;
  readonly #sweepMs: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  /** Sweeps run so far; with a connection's registry slot, which slice of the sockets checks its backlog. */
  #sweeps = 0;
  readonly #decoderLimits: StompLimits;
  /** Decodes for every connection that holds no incomplete frame; never left holding bytes of one. */
  #spare: StompDecoder;
  #server: Server<Connection> | null = null;
  #closed = false;

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    const { config, logger, broker, services } = opts;
    this.#decoderLimits = resolveStompLimits({
      maxFrameBytes: config.wsMaxFrameBytes,
      maxBodyBytes: config.wsMaxFrameBytes,
      maxHeaders: config.wsMaxHeaders,
      maxHeaderLineBytes: config.wsMaxHeaderLineBytes,
    });
    this.#spare = this.#newDecoder();
    const publisher = { publish: (topic: string, data: string) => void this.#server?.publish(topic, data) };
    const nextMessageId = frameIds();
    this.#hubs = new HubRegistry({
      broker,
      rooms: services.deps.store.rooms,
      messages: services.deps.store.messages,
      names: opts.names,
      publisher,
      logger,
      ephemeralId: nextMessageId,
      onMemberLeft: (roomId, userId) => this.#onMemberLeft(roomId, userId),
      coalesceMs: config.wsCoalesceMs,
      coalesceMinSubscribers: config.wsCoalesceMinSubscribers,
      pace: { intervalMs: config.wsPaceMs, burst: config.wsPaceBurst },
      typingMaxSubscribers: config.typingEventsMaxSubscribers,
    });
    const userChannels = new UserChannels(
      this.#users,
      broker,
      (userId, notice) => this.#onUserNotice(userId, notice),
      logger,
    );
    const notifications = new Notifications({
      hubs: this.#hubs,
      rooms: services.deps.store.rooms,
      publisher,
      logger,
      messageId: nextMessageId,
      connection: (userId, id) => this.#connections.find(userId, id),
      // Each notification state holds its own reference, so one lingering after the user's last connection
      // (NOTIFICATIONS_LINGER_MS) still gets their reads and membership changes.
      userChannels,
      broker,
      lingerMs: NOTIFICATIONS_LINGER_MS,
    });
    this.#presence = new PresenceTracker({
      presence: opts.presence,
      users: this.#users,
      processId: opts.ids.next(),
      ttlMs: config.presenceTtlMs,
      logger,
      localSubscriptions: (roomId) => this.#hubs.get(roomId)?.subscribers ?? 0,
      eventsMaxSubscribers: config.presenceEventsMaxSubscribers,
      publishEphemeral: (roomId, json) => opts.events.publishEphemeral(roomId, json),
    });
    this.#ctx = {
      services,
      config,
      hubs: this.#hubs,
      notifications,
      presence: this.#presence,
      userChannels,
      events: opts.events,
      names: opts.names,
      connections: this.#connections,
      clock: opts.clock,
      logger,
      serverName: opts.serverName,
      nextMessageId,
      typingSentAt: new Map(),
    };
    this.websocket = websocketOptions(config, {
      open: (ws) => this.#onOpen(ws),
      message: (ws, data) => this.#onMessage(ws, data),
      close: (ws) => this.#onClose(ws),
    });
    this.#sweepMs = sweepIntervalMs(config.wsHeartbeatMs);
    this.#sweep = setInterval(() => this.#runSweep(), this.#sweepMs);
    this.#sweep.unref?.();
  }

  /** Connections currently open on this process. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Who is online in which room, on any process (the REST presence routes read it). */
  get presence(): PresenceTracker {
    return this.#presence;
  }

  /** Gives the gateway the server whose topics it publishes to; call once Bun.serve returns. */
  attach(server: Server<Connection>): void {
    this.#server = server;
  }

  /**
   * Handles a request for /ws: Origin check (403 ORIGIN_NOT_ALLOWED), subprotocol choice, upgrade. Returns a
   * response when it did not upgrade, undefined when it did.
   */
  upgrade(req: Request, server: Server<Connection>): Response | undefined {
    if (this.#closed) return jsonError(503, "UNAVAILABLE", "The server is shutting down.");
    const { config, clock } = this.#opts;
    if (!originAllowed(req.headers.get("origin"), config.wsAllowedOrigins)) {
      return jsonError(403, "ORIGIN_NOT_ALLOWED", ERROR_CATALOG.ORIGIN_NOT_ALLOWED.text);
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(
        400,
        "VALIDATION_FAILED",
        "This endpoint speaks STOMP over WebSocket; send a WebSocket upgrade.",
      );
    }
    const protocol = chooseSubprotocol(req.headers.get("sec-websocket-protocol"));
    const conn = new Connection(this.#opts.ids.next(), clock.now(), config.wsMaxBufferedBytes);
    const upgraded = server.upgrade(req, {
      data: conn,
      ...(protocol === null ? {} : { headers: { "Sec-WebSocket-Protocol": protocol } }),
    });
    return upgraded ? undefined : jsonError(400, "VALIDATION_FAILED", "The WebSocket upgrade failed.");
  }

  /**
   * Closes every socket with 1001, stops the sweep, leaves presence, closes the notification states (lingering
   * ones included: nothing is kept for a process that is going) and drops the hubs. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const conn of [...this.#connections.all()]) conn.close(1001, "server shutting down");
    this.#ctx.notifications.close();
    await this.#presence.close();
    await this.#hubs.close();
  }

  #onOpen(ws: ServerWebSocket<Connection>): void {
    const conn = ws.data;
    conn.ws = ws;
    this.#connections.add(conn);
    if (this.#closed) conn.close(1001, "server shutting down");
  }

  #onMessage(ws: ServerWebSocket<Connection>, data: string | Buffer): void {
    const conn = ws.data;
    if (conn.phase === "closed") return;
    conn.lastReceivedAt = this.#opts.clock.now();
    const result = this.#decode(conn, data);
    for (const frame of result.frames) {
      conn.enqueue(
        () => this.#dispatch(conn, frame),
        (err) => this.#opts.logger.error({ err, conn: conn.id }, "frame handler failed"),
      );
    }
    if (!result.ok) {
      const error = result.error;
      conn.enqueue(
        async () => failDecode(conn, error),
        () => {},
      );
    }
  }

  /**
   * Decodes with the connection's own decoder while it holds part of a frame, else with the spare one. A decoder
   * left holding part of a frame (or dead) becomes the connection's, and a new spare is made; one that is back at
   * a frame boundary is dropped, so an idle connection holds no decoder.
   */
  #decode(conn: Connection, data: string | Buffer): DecodeResult {
    const decoder = conn.decoder ?? this.#spare;
    decoder.version = conn.version;
    const result = decoder.push(data);
    if (decoder.atFrameBoundary) conn.decoder = null;
    else if (conn.decoder !== decoder) {
      conn.decoder = decoder;
      this.#spare = this.#newDecoder();
    }
    return result;
  }

  #newDecoder(): StompDecoder {
    return new StompDecoder(this.#decoderLimits, "1.2", "client");
  }

  #onClose(ws: ServerWebSocket<Connection>): void {
    const conn = ws.data;
    conn.phase = "closed";
    if (!this.#connections.has(conn)) return;
    for (const sub of [...conn.subscriptions.values()]) endSubscription(this.#ctx, conn, sub);
    this.#connections.remove(conn);
    const userId = conn.userId;
    if (conn.holdsUserChannel && userId !== null) {
      conn.holdsUserChannel = false;
      this.#ctx.userChannels.release(userId);
    }
  }

  async #dispatch(conn: Connection, frame: StompFrame): Promise<void> {
    if (conn.phase === "handshake") {
      if (frame.command === "CONNECT" || frame.command === "STOMP")
        await handleConnect(this.#ctx, conn, frame);
      else conn.fail("NOT_CONNECTED", "Send CONNECT first.");
      return;
    }
    // Any frame but a pipelined SEND waits for the replies of the SENDs before it: its effects and RECEIPT follow.
    if (!isPipelined(frame) && conn.repliesSent() !== null) await conn.repliesSent();
    if (conn.phase !== "open") return;
    switch (frame.command) {
      case "SEND":
        await handleSend(this.#ctx, conn, frame);
        return;
      case "SUBSCRIBE":
        await handleSubscribe(this.#ctx, conn, frame);
        return;
      case "UNSUBSCRIBE":
        handleUnsubscribe(this.#ctx, conn, frame);
        return;
      case "DISCONNECT": {
        const receipt = header(frame, "receipt");
        if (receipt !== undefined) conn.send(receiptFrame(receipt));
        conn.close(1000, "disconnected");
        return;
      }
      case "ACK":
      case "NACK": {
        // Every subscription is auto-acknowledged; acknowledging is harmless.
        const receipt = header(frame, "receipt");
        if (receipt !== undefined) conn.send(receiptFrame(receipt));
        return;
      }
      case "BEGIN":
      case "COMMIT":
      case "ABORT":
        conn.fail("INVALID_OPERATION", "Transactions are not supported.");
        return;
      default:
        conn.fail("INVALID_OPERATION", "Already connected.");
    }
  }

  /** A user was removed from a room: their live subscriptions to it on this process end now. */
  #onMemberLeft(roomId: string, userId: string): void {
    for (const conn of this.#connections.ofUser(userId)) {
      for (const sub of [...conn.subscriptions.values()]) {
        if (sub.kind === "room" && sub.roomId === roomId) endRoomSubscription(this.#ctx, conn, sub);
      }
    }
  }

  #onUserNotice(userId: string, notice: UserNotice): void {
    // A revocation too: a state left behind by revoked sessions is not kept for them (notifications.ts).
    this.#ctx.notifications.onNotice(userId, notice);
    if (notice.type !== "sessions.revoked") return;
    for (const conn of [...this.#connections.ofUser(userId)]) {
      const sessionId = conn.claims?.sessionId;
      if (sessionId === undefined || (notice.sessionIds !== "all" && !notice.sessionIds.includes(sessionId)))
        continue;
      for (const sub of conn.subscriptions.values()) {
        if (sub.kind === "notifications") {
          conn.send(this.#ctx.notifications.frameFor(sub.id, { type: "session.revoked" }));
        }
      }
      conn.fail("SESSION_REVOKED", "This session was revoked.");
    }
  }

  #runSweep(): void {
    const now = this.#opts.clock.now();
    const slices = Math.max(1, Math.round(BACKPRESSURE_CHECK_MS / this.#sweepMs));
    const slice = this.#sweeps++ % slices;
    for (const conn of this.#connections.all()) {
      if (conn.phase === "handshake") {
        if (now - conn.openedAt > HANDSHAKE_TIMEOUT_MS)
          conn.fail("NOT_CONNECTED", "No CONNECT frame in time.");
        continue;
      }
      if (conn.phase !== "open") continue;
      if (conn.inMs > 0 && now - conn.lastReceivedAt > 2 * conn.inMs) {
        conn.fail("HEARTBEAT_TIMEOUT");
        continue;
      }
      if (conn.outMs > 0 && now - conn.lastHeartbeatAt + this.#sweepMs >= conn.outMs) {
        conn.lastHeartbeatAt = now;
        conn.ws?.sendText("\n");
      }
      if (conn.registrySlot % slices === slice) conn.checkBackpressure();
    }
    const typing = this.#ctx.typingSentAt;
    if (typing.size > 0) {
      for (const [key, at] of typing) if (now - at >= TYPING_THROTTLE_MS) typing.delete(key);
    }
  }
}

function failDecode(conn: Connection, error: StompDecodeError): void {
  const tooLarge = error.code === "FRAME_TOO_LARGE" || error.code === "BODY_TOO_LARGE";
  conn.fail(tooLarge ? "PAYLOAD_TOO_LARGE" : "MALFORMED_FRAME", error.message);
}

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}
