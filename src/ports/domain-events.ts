import type { RoomEvent } from "../domain/message.ts";

/**
 * What the services announce after a change is committed. The real-time layer turns these into frames and
 * broker publishes; a lost announcement is never a lost message, because the store is the record and clients
 * recover by seq.
 */
export type DomainEvent =
  /** A room's stream grew by one committed event. */
  | { readonly kind: "room.event"; readonly event: RoomEvent }
  /** Sessions ended (logout, password change, reuse detection, deactivation): close their sockets. */
  | { readonly kind: "sessions.revoked"; readonly userId: string; readonly sessionIds: readonly string[] | "all" }
  /** A room's details (name, topic) changed. */
  | { readonly kind: "room.updated"; readonly roomId: string };

/** Called only after commit, synchronously, and must not throw: a failing sink is logged, never propagated. */
export interface DomainEvents {
  emit(event: DomainEvent): void;
}
