import type { Logger } from "pino";
import type { RoomEvent } from "../domain/message.ts";
import type { Broker } from "../ports/broker.ts";
import type { DomainEvent, DomainEvents } from "../ports/domain-events.ts";
import { roomChannel, USERS_CHANNEL, userChannel } from "./channels.ts";
import type { RenameNotice } from "./renames.ts";
import { senderName, type UserNames } from "./user-names.ts";
import type { UserNotice } from "./user-notice.ts";
import { toWireEvent, toWireRoomUpdated } from "./wire.ts";

/** A room publish queued behind an event whose sender's name is loading. */
interface Waiting {
  readonly senderId: string | undefined;
  readonly publish: (name: string) => Promise<void>;
  /** Settles the event's part of `settled()` with its publish (or at once when it is dropped). */
  readonly settle: (accepted: Promise<void>) => void;
}

/**
 * The DomainEvents sink of a process that serves real-time clients: each committed room event is serialised
 * ONCE to its wire JSON and published ONCE to `room:{roomId}`; a member event also goes to `user:{memberId}`,
 * and revoked sessions to `user:{userId}`. A change of a room's details is published once to `room:{roomId}`
 * as an ephemeral `room.updated` event. Every process's room hubs take it from there. A rename goes to
 * `users`, for every process's sender names (renames.ts).
 *
 * Publishes of one room are issued in the order the events were emitted, so the common case reaches the hubs
 * without a gap. The broker keeps the order of publish calls (Broker.publish), so an event whose sender's name is
 * cached is published at once, in the same step as `emit`, without waiting for the room's earlier publishes to
 * be accepted: the events of one group commit reach the broker, and so the hubs, together, and a hub publishes
 * them to its sockets as one message (room-hub.ts). Only an event whose sender's name must be loaded first makes
 * the room's later events wait (queued), and once it is loaded every queued event whose name is known goes out in
 * one step. A failed publish, or a name that cannot be loaded, is only logged: the broker announces a resync
 * after a failed publish, and a hub that sees a hole reads the missing event from the store; a lost
 * `room.updated` is not recovered (clients read the room again when they reconnect).
 */
export class BrokerEvents implements DomainEvents {
  /** Per room, while an event waits for its sender's name: it and the room's later events, in order. */
  readonly #waiting = new Map<string, Waiting[]>();
  /** Per room, while a publish is outstanding: settles once all the room's publishes so far have. */
  readonly #outstanding = new Map<string, Promise<void>>();

  constructor(
    private readonly broker: Broker,
    private readonly names: UserNames,
    private readonly logger: Logger,
  ) {}

  emit(event: DomainEvent): void {
    try {
      switch (event.kind) {
        case "room.event": {
          const e = event.event;
          this.#inOrder(e.roomId, e.message?.senderId, (name) => this.#publishRoomEvent(e, name));
          return;
        }
        case "sessions.revoked":
          this.#publishNotice(event.userId, { type: "sessions.revoked", sessionIds: event.sessionIds });
          return;
        case "room.created":
          // Seq 0: membership from the room's creation, before its stream has any event.
          for (const userId of event.memberIds) {
            void this.#publishNotice(userId, { type: "member.joined", roomId: event.roomId, seq: 0 });
          }
          return;
        case "read": {
          const { userId, roomId, readSeq, unreadCount, countedSeq, origin } = event;
          void this.#publishNotice(userId, {
            type: "read",
            roomId,
            readSeq,
            unreadCount,
            countedSeq,
            origin,
          });
          return;
        }
        case "user.renamed": {
          // This process's names at once (its next message shows the new name whatever the broker does); every
          // process's, this one's included, through the announcement (followRenames).
          const name = senderName(event.userId, event);
          this.names.set(event.userId, name);
          const notice: RenameNotice = { type: "user.renamed", userId: event.userId, name };
          void this.broker.publish(USERS_CHANNEL, JSON.stringify(notice)).catch((err: unknown) => {
            this.logger.warn(
              { err },
              "rename not announced; other processes show the old name until a resync",
            );
          });
          return;
        }
        case "room.updated": {
          // Ephemeral, on the room's channel: every process's hub of the room hands it to the room's subscribers
          // and to the notification streams that follow the room, so one publish reaches every member who has
          // either open, whatever the room's size. Issued in order with the room events emitted before it.
          const { room, actorId, previousOwnerId } = event;
          const json = JSON.stringify(toWireRoomUpdated(room, actorId, previousOwnerId));
          this.#inOrder(room.id, undefined, () => this.publishEphemeral(room.id, json));
          return;
        }
      }
    } catch (err) {
      this.logger.error({ err, kind: event.kind }, "domain event not published");
    }
  }

  /**
   * Resolves once every room event emitted so far for `roomId` has been accepted by the broker (or failed and
   * been logged). Never rejects.
   */
  settled(roomId: string): Promise<void> {
    return this.#outstanding.get(roomId) ?? Promise.resolve();
  }

  /** Publishes a notice on the user's channel; failures are logged. */
  publishNotice(userId: string, notice: UserNotice): Promise<void> {
    return this.#publishNotice(userId, notice);
  }

  /** Publishes an ephemeral (unstored) room event, already in wire JSON; failures are logged. */
  async publishEphemeral(roomId: string, json: string): Promise<void> {
    try {
      await this.broker.publish(roomChannel(roomId), json);
    } catch (err) {
      this.logger.warn({ err, roomId }, "ephemeral room event not published");
    }
  }

  /**
   * Issues the room's next publish: at once when no earlier event of the room waits and the sender's name (if
   * any) is cached; else queued behind the waiting ones. `publish` issues the broker publish when called and
   * settles, never rejecting, once the broker has accepted it or it has failed.
   */
  #inOrder(roomId: string, senderId: string | undefined, publish: (name: string) => Promise<void>): void {
    let queue = this.#waiting.get(roomId);
    const name = senderId === undefined ? "" : this.names.peek(senderId);
    let done: Promise<void>;
    if (queue === undefined && name !== undefined) {
      done = publish(name);
    } else {
      const settled = Promise.withResolvers<void>();
      done = settled.promise;
      const job = { senderId, publish, settle: settled.resolve };
      if (queue === undefined) {
        queue = [job];
        this.#waiting.set(roomId, queue);
        void this.#issueWaiting(roomId, queue);
      } else {
        queue.push(job);
        // Its name loads now, alongside the earlier ones', so that once the first has loaded the rest are likely
        // known too and go out in the same step. A failure is not handled here: at the event's turn #issueWaiting
        // asks for the name again (sharing this load if it is still under way) and handles a failure as before.
        if (senderId !== undefined && name === undefined) this.names.get(senderId).catch(() => {});
      }
    }
    const earlier = this.#outstanding.get(roomId);
    const all = earlier === undefined ? done : earlier.then(() => done);
    this.#outstanding.set(roomId, all);
    void all.then(() => {
      if (this.#outstanding.get(roomId) === all) this.#outstanding.delete(roomId);
    });
  }

  /**
   * Issues a room's queued publishes in order, waiting for each missing sender's name before its event (the names
   * of queued events load concurrently, started by #inOrder). Everything whose name is then known goes out in the
   * same step, so the events that waited reach the hubs together.
   */
  async #issueWaiting(roomId: string, queue: Waiting[]): Promise<void> {
    while (queue.length > 0) {
      const job = queue[0] as Waiting;
      let name = job.senderId === undefined ? "" : this.names.peek(job.senderId);
      if (name === undefined) {
        try {
          name = await this.names.get(job.senderId as string);
        } catch (err) {
          queue.shift();
          this.logger.warn({ err, roomId }, "room event not published; hubs will recover it from the store");
          job.settle(Promise.resolve());
          continue;
        }
      }
      queue.shift();
      try {
        job.settle(job.publish(name));
      } catch (err) {
        this.logger.error({ err, roomId }, "room event not published; hubs will recover it from the store");
        job.settle(Promise.resolve());
      }
    }
    this.#waiting.delete(roomId);
  }

  #publishRoomEvent(event: RoomEvent, name: string): Promise<void> {
    const publishing = this.broker.publish(
      roomChannel(event.roomId),
      JSON.stringify(toWireEvent(event, name)),
    );
    if (event.member !== null && (event.type === "member.joined" || event.type === "member.left")) {
      void this.#publishNotice(event.member.userId, {
        type: event.type,
        roomId: event.roomId,
        seq: event.seq,
      });
    }
    return publishing.catch((err: unknown) => {
      this.logger.warn(
        { err, roomId: event.roomId },
        "room event not published; hubs will recover it from the store",
      );
    });
  }

  async #publishNotice(userId: string, notice: UserNotice): Promise<void> {
    try {
      await this.broker.publish(userChannel(userId), JSON.stringify(notice));
    } catch (err) {
      this.logger.warn({ err, type: notice.type }, "user notice not published");
    }
  }
}
