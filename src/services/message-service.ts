import { AppError, Conflict, NotFound } from "../domain/errors.ts";
import type { Message, RoomEvent, SearchHit } from "../domain/message.ts";
import { CLIENT_MSG_ID_PATTERN, isStorableText, PAGE_MAX, SEARCH_QUERY_MAX, textLength } from "../domain/rules.ts";
import { roleAtLeast } from "../domain/user.ts";
import type { BucketTake, TokenBucketLimit } from "../ports/rate-limiter.ts";
import type { ServiceDeps } from "./deps.ts";
import type { Principal } from "./principal.ts";
import type { RoomService } from "./room-service.ts";

export interface MessagePolicy {
  readonly maxLength: number;
  /** Messages per second one room accepts from all senders together (0 = no cap), with a burst allowance. */
  readonly roomSendRate: number;
  readonly roomSendBurst: number;
}

export interface SendOptions {
  /**
   * Called once the message is handed to the store, before it commits: a caller may hand over its next message
   * then, and the store keeps that order (Store `append`). Not called when the send fails before that.
   */
  readonly handedOver?: () => void;
  /** The sender's own budget (e.g. WebSocket sends per user), spent only together with the room's. */
  readonly senderBucket?: BucketTake;
}

export interface SendResult {
  readonly message: Message;
  /** False when the (sender, clientMsgId) pair was already stored: the original is returned, nothing is re-sent. */
  readonly created: boolean;
}

export interface HistoryPage {
  /** Ascending seq within the page. */
  readonly messages: Message[];
  /** The cursor for the next (older) page; null when this page reaches the start of the room. */
  readonly nextBefore: number | null;
}

/**
 * Sending, editing, deleting, reading and searching messages. Every change is committed by the store first and
 * announced afterwards, so nothing a client is told about can be lost.
 */
export class MessageService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly rooms: RoomService,
    private readonly policy: MessagePolicy,
  ) {}

  /**
   * Commits a message (idempotent on the sender's clientMsgId) and announces its event. Text and clientMsgId are
   * checked first, then the budgets: the room's cap and, when given, the sender's own (`opts.senderBucket`), taken
   * together so that a refused send spends from neither.
   */
  async send(
    p: Principal,
    roomId: string,
    text: string,
    clientMsgId: string | null,
    opts: SendOptions = {},
  ): Promise<SendResult> {
    this.#checkText(text);
    if (clientMsgId !== null && !CLIENT_MSG_ID_PATTERN.test(clientMsgId)) {
      throw new AppError("VALIDATION_FAILED", "clientMsgId must be 1–64 letters, digits, '.', '_', ':' or '-'.");
    }
    // Membership is checked by the store, inside the append's transaction (one check, atomic with the insert);
    // the room's token is taken before it, since a send over the cap must not be stored.
    await this.#takeTokens(p, roomId, opts.senderBucket);
    const { store, ids, clock, events, metrics } = this.deps;
    try {
      const handedAt = metrics === undefined ? 0 : performance.now();
      const appended = store.messages.append({
        id: ids.next(),
        roomId,
        senderId: p.userId,
        body: text,
        clientMsgId,
        createdAt: clock.now(),
      });
      opts.handedOver?.();
      const { message, event, created } = await appended;
      metrics?.messageAppended((performance.now() - handedAt) / 1000);
      if (event) events.emit({ kind: "room.event", event });
      return { message, created };
    } catch (e) {
      if (e instanceof Conflict) throw new AppError("CLIENT_MSG_ID_CONFLICT");
      if (e instanceof NotFound) {
        // Not the sender's room (missing, or they are not in it): the token goes back, so someone outside a
        // room cannot spend its budget.
        await this.#refundRoomToken(roomId);
        throw new AppError("ROOM_NOT_FOUND");
      }
      throw e;
    }
  }

  async history(p: Principal, roomId: string, before: number | undefined, limit: number): Promise<HistoryPage> {
    await this.rooms.requireMember(p, roomId);
    const n = Math.min(Math.max(1, limit), PAGE_MAX);
    // One extra row tells whether an older page exists without a second query.
    const rows = await this.deps.store.messages.page(roomId, { before, limit: n + 1 });
    const page = rows.slice(0, n);
    const nextBefore = rows.length > n ? (page[page.length - 1]?.seq ?? null) : null;
    return { messages: page.reverse(), nextBefore };
  }

  async get(p: Principal, roomId: string, messageId: string): Promise<Message> {
    await this.rooms.requireMember(p, roomId);
    const m = await this.deps.store.messages.findById(roomId, messageId);
    if (!m) throw new AppError("MESSAGE_NOT_FOUND");
    return m;
  }

  /** Only the author may edit, and only while the message is not deleted. */
  async edit(p: Principal, roomId: string, messageId: string, text: string): Promise<Message> {
    this.#checkText(text);
    const m = await this.get(p, roomId, messageId);
    if (m.senderId !== p.userId) throw new AppError("FORBIDDEN", "Only the author can edit a message.");
    if (m.deletedAt !== null) throw new AppError("MESSAGE_NOT_FOUND");
    const event = await this.#storeChange(() => this.deps.store.messages.edit(roomId, messageId, text, p.userId, this.deps.clock.now()));
    return event?.message ?? m;
  }

  /** The author, the room's owner or an administrator may delete; deleting twice is a no-op. */
  async delete(p: Principal, roomId: string, messageId: string): Promise<void> {
    const { room, member } = await this.rooms.requireMember(p, roomId);
    const m = await this.deps.store.messages.findById(roomId, messageId);
    if (!m) throw new AppError("MESSAGE_NOT_FOUND");
    const allowed = m.senderId === p.userId || member.role === "owner" || room.ownerId === p.userId || roleAtLeast(p.role, "admin");
    if (!allowed) throw new AppError("FORBIDDEN", "Only the author, the room owner or an administrator can delete.");
    await this.#storeChange(() => this.deps.store.messages.softDelete(roomId, messageId, p.userId, this.deps.clock.now()));
  }

  async search(
    p: Principal,
    query: string,
    opts: { roomId?: string; before?: string; limit: number },
  ): Promise<{ hits: SearchHit[]; nextBefore: string | null }> {
    const q = query.trim();
    if (q.length === 0 || q.length > SEARCH_QUERY_MAX || !isStorableText(q)) {
      throw new AppError("VALIDATION_FAILED", `q must be 1–${SEARCH_QUERY_MAX} characters of text.`);
    }
    if (opts.roomId !== undefined) await this.rooms.requireMember(p, opts.roomId);
    const n = Math.min(Math.max(1, opts.limit), PAGE_MAX);
    const rows = await this.deps.store.messages.search(p.userId, q, { roomId: opts.roomId, before: opts.before, limit: n + 1 });
    const hits = rows.slice(0, n);
    return { hits, nextBefore: rows.length > n ? (hits[hits.length - 1]?.message.id ?? null) : null };
  }

  /** The stored events after `afterSeq`, for a client catching up (used by the real-time gateway). */
  async eventsSince(p: Principal, roomId: string, afterSeq: number, limit: number): Promise<RoomEvent[]> {
    await this.rooms.requireMember(p, roomId);
    return this.deps.store.messages.listEvents(roomId, afterSeq, limit);
  }

  async #storeChange(change: () => Promise<RoomEvent | null>): Promise<RoomEvent | null> {
    try {
      const event = await change();
      if (event) this.deps.events.emit({ kind: "room.event", event });
      return event;
    } catch (e) {
      if (e instanceof NotFound) throw new AppError("MESSAGE_NOT_FOUND");
      throw e;
    }
  }

  /**
   * The per-room cap: a room that is flooded (tens of thousands of members each sending now and then) accepts
   * at most roomSendRate messages per second after its burst, on every process together, and tells each
   * rejected sender so with RATE_LIMITED and a retry time — never dropping a send silently. It guards the
   * store and every member's socket from a fan-out that could not be delivered anyway. A retry of an already
   * stored clientMsgId that hits the cap is rejected too; retried after Retry-After it gets the original.
   * Only members spend the budget: a send the store refuses as not the sender's room gives its token back as
   * soon as it is refused (#refundRoomToken), and a refusal by the cap is told as RATE_LIMITED only to a member —
   * to anyone else the room does not exist, busy or not. A sender's own budget, when the caller has one, is taken
   * in the same step and refused first.
   */
  async #takeTokens(p: Principal, roomId: string, sender: BucketTake | undefined): Promise<void> {
    const limit = this.#roomLimit();
    const room: BucketTake | null = limit === null ? null : { key: `room-send:${roomId}`, limit };
    const takes = [sender, room].filter((t) => t != null);
    if (takes.length === 0) return;
    // One take (one round trip on Redis) whether one budget applies or two.
    const r = await this.deps.buckets.takeEach(takes);
    if (r.allowed) return;
    if (takes[r.refused] === sender) {
      this.deps.metrics?.sendRateLimited("sender");
      throw new AppError("RATE_LIMITED", "Too many messages; slow down.", { retryAfter: r.retryAfterMs / 1000 });
    }
    await this.rooms.requireMember(p, roomId);
    this.deps.metrics?.sendRateLimited("room");
    throw new AppError("RATE_LIMITED", "This room is receiving more messages than it accepts; retry shortly.", {
      retryAfter: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
      details: { scope: "room", retryAfterMs: r.retryAfterMs },
    });
  }

  async #refundRoomToken(roomId: string): Promise<void> {
    const limit = this.#roomLimit();
    if (limit !== null) await this.deps.buckets.refund(`room-send:${roomId}`, limit);
  }

  #roomLimit(): TokenBucketLimit | null {
    const { roomSendRate, roomSendBurst } = this.policy;
    return roomSendRate === 0 ? null : { capacity: roomSendBurst, refillPerSecond: roomSendRate };
  }

  #checkText(text: string): void {
    if (text.trim().length === 0) throw new AppError("VALIDATION_FAILED", "A message must not be empty.");
    if (!isStorableText(text)) throw new AppError("VALIDATION_FAILED", "A message must be valid text without NUL characters.");
    const len = textLength(text);
    if (len > this.policy.maxLength) {
      throw new AppError("MESSAGE_TOO_LONG", `A message may have at most ${this.policy.maxLength} characters.`, {
        details: { max: this.policy.maxLength, length: len },
      });
    }
  }
}
