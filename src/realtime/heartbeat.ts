/**
 * STOMP heart-beat negotiation (STOMP 1.2 §Heart-beating). The server offers `serverMs` both ways: it can send
 * every serverMs and wants to hear from the client at least every serverMs. Each direction is then the larger
 * of the two wishes, or off when either side says 0.
 */
export interface HeartBeats {
  /** How often the client must send something; 0 = never checked. A client silent for 2× this is dropped. */
  readonly inMs: number;
  /** How often the server sends an EOL; 0 = never. */
  readonly outMs: number;
  /** The CONNECTED frame's `heart-beat` header: what the server offered. */
  readonly header: string;
}

const HEART_BEAT = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/;

/** The client's `heart-beat` header as [cx, cy]; absent means 0,0; null when malformed. */
export function parseHeartBeat(value: string | undefined): readonly [number, number] | null {
  if (value === undefined) return [0, 0];
  const m = HEART_BEAT.exec(value);
  if (m === null) return null;
  return [Number(m[1]), Number(m[2])];
}

export function negotiateHeartBeats(client: readonly [number, number], serverMs: number): HeartBeats {
  const [cx, cy] = client;
  return {
    inMs: cx === 0 || serverMs === 0 ? 0 : Math.max(cx, serverMs),
    outMs: cy === 0 || serverMs === 0 ? 0 : Math.max(cy, serverMs),
    header: `${serverMs},${serverMs}`,
  };
}

/**
 * How often the process-wide sweep runs: fine enough to send heart-beats on time and to catch a silent peer
 * soon after 2× its interval, coarse enough to cost little (one pass over the connections per tick, one native
 * buffered-amount read per connection).
 */
export function sweepIntervalMs(serverHeartbeatMs: number): number {
  // At least four times a second: heart-beats are sent from the sweep, and it checks a quarter of the sockets'
  // backlogs at a time (each about once a second).
  if (serverHeartbeatMs === 0) return 250;
  return Math.min(250, Math.max(20, Math.floor(serverHeartbeatMs / 4)));
}
