import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { Connection } from "./connection.ts";
import type { GatewayConfig } from "./context.ts";

/** Bytes beyond twice wsMaxBufferedBytes that Bun may queue for a socket before it cuts it off itself. */
const HARD_BACKLOG_SLACK = 8 * 1024 * 1024;

/** The gateway's handlers for Bun's socket events. */
export interface SocketEvents {
  open(ws: ServerWebSocket<Connection>): void;
  message(ws: ServerWebSocket<Connection>, data: string | Buffer): void;
  close(ws: ServerWebSocket<Connection>): void;
}

/**
 * Bun's websocket settings for /ws. Its own limits are backstops behind the gateway's, which answer with a reason
 * (an ERROR frame, a close reason): each is set well above the gateway's so that Bun acts alone only on input or
 * backlogs far beyond what the gateway refuses first.
 */
export function websocketOptions(
  config: Pick<GatewayConfig, "wsMaxFrameBytes" | "wsMaxBufferedBytes">,
  on: SocketEvents,
): WebSocketHandler<Connection> {
  return {
    // One WebSocket message may carry several frames; the decoder bounds each frame by wsMaxFrameBytes and
    // answers a bigger one with an ERROR, so Bun's own cut-off (no ERROR frame) only meets far larger input.
    maxPayloadLength: config.wsMaxFrameBytes * 2 + 1024,
    // The hard stop behind the sweep's "slow consumer" check, which closes at wsMaxBufferedBytes with a
    // reason: Bun's own cut-off (no reason given) only acts if a backlog grows by megabytes between sweeps.
    backpressureLimit: Math.min(2 * config.wsMaxBufferedBytes + HARD_BACKLOG_SLACK, 0xffff_ffff),
    closeOnBackpressureLimit: true,
    // Heart-beats and the sweep watch liveness; Bun's idle timeout stays as a backstop for heart-beat-less peers.
    idleTimeout: 960,
    sendPings: true,
    perMessageDeflate: false,
    open: (ws) => on.open(ws),
    message: (ws, data) => on.message(ws, data),
    close: (ws) => on.close(ws),
  };
}
