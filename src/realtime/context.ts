import type { Logger } from "pino";
import type { Config } from "../config/config.ts";
import { AppError } from "../domain/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { Services } from "../services/services.ts";
import type { BrokerEvents } from "./broker-events.ts";
import type { Connection } from "./connection.ts";
import type { ConnectionRegistry } from "./connection-registry.ts";
import { errorMessageFrame } from "./frames.ts";
import type { HubRegistry } from "./hub-registry.ts";
import type { Notifications } from "./notifications.ts";
import type { PresenceTracker } from "./presence-tracker.ts";
import type { UserChannels } from "./user-channels.ts";
import type { UserNames } from "./user-names.ts";

/** The configuration the gateway reads. */
export type GatewayConfig = Pick<
  Config,
  | "wsAllowedOrigins"
  | "wsMaxFrameBytes"
  | "wsMaxHeaders"
  | "wsMaxHeaderLineBytes"
  | "wsMaxSubscriptions"
  | "wsMaxConnectionsPerUser"
  | "wsHeartbeatMs"
  | "wsSendRatePerSecond"
  | "wsSendBurst"
  | "wsReplayBacklog"
  | "wsCoalesceMs"
  | "wsCoalesceMinSubscribers"
  | "wsPaceMs"
  | "wsPaceBurst"
  | "wsMaxBufferedBytes"
  | "presenceTtlMs"
  | "presenceEventsMaxSubscribers"
  | "typingEventsMaxSubscribers"
>;

/** What the frame handlers share: one per process. */
export interface GatewayContext {
  readonly services: Services;
  readonly config: GatewayConfig;
  readonly hubs: HubRegistry;
  readonly notifications: Notifications;
  readonly presence: PresenceTracker;
  readonly userChannels: UserChannels;
  readonly events: BrokerEvents;
  readonly names: UserNames;
  readonly connections: ConnectionRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `server` header of CONNECTED, e.g. "Parley/0.1.0". */
  readonly serverName: string;
  /** Unique message-id values for frames that are not stored events. */
  readonly nextMessageId: () => string;
  /** Last typing event per (user, room), for the throttle. */
  readonly typingSentAt: Map<string, number>;
}

/**
 * Answers a failed client request on /user/queue/errors (the connection stays open): a catalog error keeps its
 * code; anything else is logged and reported as INTERNAL without detail.
 */
export function replyError(
  ctx: GatewayContext,
  conn: Connection,
  err: unknown,
  receiptId: string | undefined,
): void {
  let appError: AppError;
  if (err instanceof AppError) {
    appError = err;
  } else {
    ctx.logger.error({ err, conn: conn.id }, "STOMP frame handling failed");
    appError = new AppError("INTERNAL", "An unexpected error occurred.");
  }
  conn.send(
    errorMessageFrame({
      subscriptionId: conn.errorsSubscriptionId,
      messageId: ctx.nextMessageId(),
      code: appError.code,
      message: appError.message,
      ...(receiptId === undefined ? {} : { receiptId }),
      ...(appError.retryAfter === undefined ? {} : { retryAfterMs: Math.ceil(appError.retryAfter * 1000) }),
    }),
  );
}
