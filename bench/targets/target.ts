/** A system under test, started (or found) for one run, and the room layout it must serve. */
import type { DialectKind } from "../protocol/dialect.ts";

export interface Layout {
  /** Room indexes each connection subscribes to. */
  readonly connRooms: readonly (readonly number[])[];
  readonly rooms: number;
}

export interface Prepared {
  /** Room id the server knows, per room index. */
  readonly roomIds: readonly string[];
  /** Credential per connection (Parley only). */
  readonly tokens?: readonly string[];
}

export interface Target {
  readonly name: string;
  readonly dialect: DialectKind;
  readonly host: string;
  readonly port: number;
  /** Server processes whose CPU and memory the run reports. */
  readonly pids: readonly number[];
  /**
   * GET /metrics of each server process (Parley's PARLEY_METRICS_PORT), read at a step's edges for the store's
   * append latency. Absent for peers, which have no store.
   */
  readonly metricsUrls?: readonly string[];
  /** How the server side was placed on cores, for the report. */
  readonly placement: string;
  prepare(layout: Layout, status: (line: string) => void): Promise<Prepared>;
  /**
   * Stops the server processes and starts them again with `env` added (same port, same data): for scenarios
   * that change a server setting between steps. Absent where the data would not survive a restart.
   */
  restart?(env: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export type TargetName = "parley" | "bare" | "socketio" | "rabbitmq";
export const TARGET_NAMES: readonly TargetName[] = ["parley", "bare", "socketio", "rabbitmq"];

/** Members of each room: the connections that subscribe to it, in connection order. */
export function roomMembers(layout: Layout): number[][] {
  const members: number[][] = Array.from({ length: layout.rooms }, () => []);
  layout.connRooms.forEach((rooms, conn) => {
    for (const r of rooms) members[r]?.push(conn);
  });
  return members;
}
