/**
 * What the use cases report about their own work, for operators (Prometheus at /metrics) and the benchmarks.
 * Implementations must be cheap and must never throw: they run on the message path, once per message.
 */
export interface ServiceMetrics {
  /** A message append resolved: `seconds` from handing it to the store until the store had committed it. */
  messageAppended(seconds: number): void;
  /**
   * A member's send refused with RATE_LIMITED, nothing stored: by the room's cap (`room`, every sender of the room
   * together) or by the sender's own budget (`sender`).
   */
  sendRateLimited(scope: "room" | "sender"): void;
}
