import type { RoomEvent } from "../domain/message.ts";
import type { Room } from "../domain/room.ts";

/**
 * What the services announce after a change is committed. The real-time layer turns these into frames and
 * broker publishes; a lost announcement is never a lost message, because the store is the record and clients
 * recover by seq.
 */
export type DomainEvent =
  /** A room's stream grew by one committed event. */
  | { readonly kind: "room.event"; readonly event: RoomEvent }
  /** Sessions ended (logout, password change, reuse detection, deactivation): close their sockets. */
  | {
      readonly kind: "sessions.revoked";
      readonly userId: string;
      readonly sessionIds: readonly string[] | "all";
    }
  /**
   * A room's details changed: its name or topic, or its owner (and with it two members' roles). Not a stream
   * event (no seq): it carries the details as committed, so whoever shows the room can update it without reading
   * it again.
   */
  | {
      readonly kind: "room.updated";
      /**
       * The room as the change committed it, with the details version that change gave it: versions follow commit
       * order, so a receiver can order racing announcements, which the broker may deliver out of it.
       */
      readonly room: Room;
      /** Who made the change (an owner, or a site administrator who need not be a member). */
      readonly actorId: string;
      /**
       * The owner the change replaced, when it transferred ownership (that user's role is now "member"); null
       * for a change of name or topic, and when the room had no recorded owner.
       */
      readonly previousOwnerId: string | null;
    }
  /** A user's display name changed: every process shows the new one as the sender of their next messages. */
  | {
      readonly kind: "user.renamed";
      readonly userId: string;
      readonly username: string;
      readonly displayName: string;
    }
  /** A room was created with these members (no stream event: a new room's stream starts empty). */
  | { readonly kind: "room.created"; readonly roomId: string; readonly memberIds: readonly string[] }
  /**
   * A member's read marker moved. `origin` names the connection that read (its own badge is already right),
   * or "http" for a REST call.
   */
  | {
      readonly kind: "read";
      readonly userId: string;
      readonly roomId: string;
      readonly readSeq: number;
      readonly unreadCount: number;
      /** The room's last seq as of `unreadCount`: the events up to it are in the count, later ones are not. */
      readonly countedSeq: number;
      readonly origin: string;
    };

/** Called only after commit, synchronously, and must not throw: a failing sink is logged, never propagated. */
export interface DomainEvents {
  emit(event: DomainEvent): void;
}
