import type { Logger } from "pino";
import type { RoomEvent } from "../domain/message.ts";
import type { Broker } from "../ports/broker.ts";
import type { DomainEvent, DomainEvents } from "../ports/domain-events.ts";
import { roomChannel, USERS_CHANNEL, userChannel } from "./channels.ts";
import type { RenameNotice } from "./renames.ts";
import { senderName, type UserNames } from "./user-names.ts";
import type { UserNotice } from "./user-notice.ts";
import { toWireEvent, toWireRoomUpdated } from "./wire.ts";

/**
 * The DomainEvents sink of a process that serves real-time clients: each committed room event is serialised
 * ONCE to its wire JSON and published ONCE to `room:{roomId}`; a member event also goes to `user:{memberId}`,
 * and revoked sessions to `user:{userId}`. A change of a room's details is published once to `room:{roomId}`
 * as an ephemeral `room.updated` event. Every process's room hubs take it from there. A rename goes to
 * `users`, for every process's sender names (renames.ts).
 *
 * Publishes of one room are issued in the order the events were emitted, even when the sender's name has to be
 * loaded first (a per-room chain), so the common case reaches the hubs without a gap. A failed publish is only
 * logged: the broker then announces a resync and every hub recovers a stored event from the store; a lost
 * `room.updated` is not recovered (clients read the room again when they reconnect).
 */
export class BrokerEvents implements DomainEvents {
  readonly #tails = new Map<string, Promise<void>>();

  constructor(
    private readonly broker: Broker,
    private readonly names: UserNames,
    private readonly logger: Logger,
  ) {}

  emit(event: DomainEvent): void {
    try {
      switch (event.kind) {
        case "room.event":
          this.#chain(event.event.roomId, () => this.#publishRoomEvent(event.event));
          return;
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
          // either open, whatever the room's size. Chained so it follows the room events emitted before it.
          const { room, actorId, previousOwnerId } = event;
          const json = JSON.stringify(toWireRoomUpdated(room, actorId, previousOwnerId));
          this.#chain(room.id, () => this.publishEphemeral(room.id, json));
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
    return this.#tails.get(roomId) ?? Promise.resolve();
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

  #chain(roomId: string, task: () => Promise<void>): void {
    const prev = this.#tails.get(roomId) ?? Promise.resolve();
    const next = prev.then(task).catch((err: unknown) => {
      this.logger.warn({ err, roomId }, "room event not published; hubs will recover it from the store");
    });
    this.#tails.set(roomId, next);
    void next.then(() => {
      if (this.#tails.get(roomId) === next) this.#tails.delete(roomId);
    });
  }

  async #publishRoomEvent(event: RoomEvent): Promise<void> {
    const senderId = event.message?.senderId;
    const name =
      senderId === undefined ? "" : (this.names.peek(senderId) ?? (await this.names.get(senderId)));
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
    await publishing;
  }

  async #publishNotice(userId: string, notice: UserNotice): Promise<void> {
    try {
      await this.broker.publish(userChannel(userId), JSON.stringify(notice));
    } catch (err) {
      this.logger.warn({ err, type: notice.type }, "user notice not published");
    }
  }
}
