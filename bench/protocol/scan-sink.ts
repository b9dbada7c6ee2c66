/** What a protocol scanner reports for each server message it recognises. */
export interface ScanSink {
  /**
   * A delivery: `room` is the generator's room index (from the subscription id or payload), `seq` the room
   * sequence (server's when it sends one, else the sender's), `sentAt` the µs send time from the probe (NaN if
   * the text carried none).
   */
  delivery(room: number, seq: number, sentAt: number): void;
  /**
   * A room `reset` event: the server could not replay the gap a resume asked for and says so (no seq, no probe).
   * Optional: only sinks that resume need it.
   */
  reset?(room: number): void;
  /** A frame on /user/queue/notifications (subscription `n`); optional: only sinks that subscribe count them. */
  notification?(): void;
  /** An application-level rejection of something this connection sent; the connection stays open. */
  rejected(code: string): void;
  /** The session is established (STOMP CONNECTED, Socket.IO namespace connect). */
  connected(): void;
  /** A receipt or acknowledgement the dialect asked for (used to know subscriptions are in place). */
  acknowledged(id: string): void;
  /** The protocol requires an immediate text reply (Engine.IO open and ping). */
  reply(text: string): void;
  /** A fatal protocol error from the server; the connection is about to close. */
  failed(reason: string): void;
}
