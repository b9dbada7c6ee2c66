import type { Logger } from "pino";
import type { MessageRepository } from "../ports/store.ts";
import { roomDestination, roomTopic } from "./channels.ts";
import { DeliveryWaiters } from "./delivery-waiters.ts";
import type { Flushable, FlushScheduler } from "./frame-batcher.ts";
import { roomEventTemplate } from "./frames.ts";
import { type HubEvent, hubEventFromStore } from "./hub-event.ts";
import type { PublishPacing } from "./publish-pacing.ts";
import { RecentEvents } from "./recent-events.ts";
import { TextMessageTemplate } from "./text-frames.ts";
import type { UserNames } from "./user-names.ts";

/** Where delivered frames go: Bun's server-wide topic publish (one native call fans out to every socket). */
export interface TopicPublisher {
  publish(topic: string, data: string): void;
}

export interface RoomHubDeps {
  readonly messages: Pick<MessageRepository, "listEvents">;
  readonly names: UserNames;
  readonly publisher: TopicPublisher;
  readonly logger: Logger;
  readonly ephemeralId: () => string;
  /** Called right after a member.left event has been delivered locally. */
  readonly onMemberLeft: (roomId: string, userId: string) => void;
  /**
   * Holds a large room's events for a window so that events of several turns share one WebSocket message per
   * subscription id (see `coalesceMinSubscribers`).
   */
  readonly flushes?: FlushScheduler;
  /**
   * With `flushes`, only a hub with at least this many local subscriptions waits for the window; a smaller one
   * has its events published with `taskFlushes`. In a room of thousands the per-socket writes are the cost of the
   * room; in a small one the window would only add latency.
   */
  readonly coalesceMinSubscribers?: number;
  /**
   * A window-0 scheduler: the events a hub accepts in one task (one broker delivery run) share one WebSocket
   * message per subscription id, published before the event loop moves on. Without it (and outside a window)
   * every event is published as it is accepted.
   */
  readonly taskFlushes?: FlushScheduler;
  /**
   * With `taskFlushes`: a room outside the window that keeps publishing faster than the pace waits for the
   * pacing scheduler instead of the end of the task (publish-pacing.ts). Absent: it never waits.
   */
  readonly pacing?: PublishPacing;
  /**
   * A hub with more local subscriptions than this drops `typing` events instead of publishing them (0 or absent:
   * no limit). A typing event costs a write to every subscriber, as a message does, but the room's send cap does
   * not count it and each member may send one every 1.5 s: in a room of 70,000 that could be tens of thousands a
   * second, each to all of them. Large chat rooms show no typing indicators; presence events have the same
   * limit for the same reason (presence-tracker.ts).
   */
  readonly typingMaxSubscribers?: number;
}

export type HubListener = (event: HubEvent) => void;

/** Events read from the store per query while catching up. */
const FILL_BATCH = 500;
/** Live events kept while catching up; beyond it they are dropped and read from the store instead. */
const PENDING_MAX = 10_000;
/** Delay before retrying a failed store read. */
const RETRY_MS = 500;
/** Retries without progress after which held events beyond a gap are given up. */
const MAX_STALLS = 10;
/**
 * A batch whose bodies reach this many characters is published at once rather than at its flush,
 * which bounds both the size of one coalesced WebSocket message (about this plus one frame) and the memory held.
 */
export const BATCH_MAX_CHARS = 64 * 1024;

/**
 * One room's stream on this process. Guarantees: stored events reach local subscribers exactly once each and
 * in seq order; `lastSeq` is the last seq delivered locally and moves in the same synchronous step as the
 * delivery, which is what makes a gap-free resume possible (resume.ts).
 *
 * A live event whose seq follows the last accepted one is accepted at once; one at or below it is a duplicate
 * and dropped; a larger seq means events were lost or reordered in transit, so the missing ones are read from
 * the store and accepted first while live ones wait. Ephemeral events (no seq) are accepted as they come.
 *
 * Delivery is one serialisation per event and one topic publish per distinct STOMP subscription id among the
 * local subscribers, never a loop over sockets. With a FlushScheduler, accepted events wait in a batch until its
 * flush (the end of the task, a large room's window, or a busy room's pace) and go out as one WebSocket message
 * per subscription id, frames back to back in seq order; a batch is published at once when it reaches
 * BATCH_MAX_CHARS or ends with a member.left (whose subscriptions are cancelled right after it, so nothing later
 * may share its message).
 * Without one, every event is published as it is accepted.
 *
 * "Delivered" means published to the topics: `lastSeq`, `whenDelivered` and the listeners move only when the
 * batch holding the event is published. A socket subscribed to a topic while a batch is pending therefore gets
 * the whole batch, which holds exactly the seqs above `lastSeq` accepted so far — what resume.ts expects of a
 * subscription that goes live at `lastSeq`.
 *
 * The last stored events published are kept (recent-events.ts: at most 64, as the store would replay them now,
 * ending at `lastSeq`), so that a resume from a recent cursor is served from memory instead of the store.
 */
export class RoomHub implements Flushable {
  /** The last seq published to the local topics. */
  lastSeq = 0;
  /** Distinct subscription ids of the local live subscribers, with how many sockets use each. */
  readonly subscriptionIds = new Map<string, number>();
  /** Local subscriptions, all ids together (the sum of subscriptionIds' counts). */
  #subscribers = 0;
  readonly listeners = new Set<HubListener>();

  readonly #destination: string;
  /** See internSubscriptionId. */
  #commonId = "";
  #started = false;
  #filling = false;
  #refill = false;
  #closed = false;
  #pending: HubEvent[] = [];
  /** Consecutive catch-ups that made no progress while a held event stayed beyond a gap. */
  #stalls = 0;
  readonly #waiters = new DeliveryWaiters();
  /** The last seq accepted for delivery: equal to lastSeq, or the last seq of the pending batch. */
  #acceptedSeq = 0;
  /** Accepted events not yet published, in seq order. */
  #batch: HubEvent[] = [];
  #batchChars = 0;
  /** Whether the pending batch waits for the pacing scheduler (then later events join it without scheduling). */
  #batchPaced = false;
  /** The room's theoretical next publish time (PublishPacing). */
  #paceTat = 0;
  /** The last published stored events; when not empty, the newest is lastSeq's. */
  readonly #recent = new RecentEvents();

  constructor(
    readonly roomId: string,
    private readonly deps: RoomHubDeps,
  ) {
    this.#destination = roomDestination(roomId);
  }

  /** Sets the starting point once the broker subscription is active: events up to `lastSeq` are not delivered. */
  start(lastSeq: number): void {
    this.lastSeq = lastSeq;
    this.#acceptedSeq = lastSeq;
    this.#started = true;
    this.#waiters.reached(this.lastSeq);
    const pending = this.#pending;
    this.#pending = [];
    pending.sort(bySeq);
    for (const e of pending) this.receive(e);
  }

  /** An event from the broker. */
  receive(event: HubEvent): void {
    if (this.#closed) return;
    if (event.seq === null) {
      if (event.type === "typing" && this.dropsTyping) return;
      this.#deliver(event);
      return;
    }
    if (!this.#started || this.#filling) {
      this.#hold(event);
      return;
    }
    if (event.seq <= this.#acceptedSeq) return;
    if (event.seq === this.#acceptedSeq + 1) {
      this.#deliver(event);
      return;
    }
    this.#hold(event);
    void this.#fill();
  }

  /** The broker may have lost events: read the store from the last accepted seq to its end. */
  resync(): void {
    if (this.#closed || !this.#started) return;
    if (this.#filling) this.#refill = true;
    else void this.#fill();
  }

  /**
   * The hub's copy of a subscription id equal to `subscriptionId`, if it has one at hand (the id of the last
   * subscription set up here), else `subscriptionId` itself, which becomes that copy. Clients mostly use the same
   * id for the same kind of subscription ("sub-0"), so each idle subscription need not keep its own string; one
   * slot keeps the cost bounded whatever ids clients choose.
   */
  internSubscriptionId(subscriptionId: string): string {
    if (this.#commonId === subscriptionId) return this.#commonId;
    this.#commonId = subscriptionId;
    return subscriptionId;
  }

  /** Live subscriptions to the room on this process. */
  get subscribers(): number {
    return this.#subscribers;
  }

  /** Whether the room is too large here for typing events (RoomHubDeps.typingMaxSubscribers): they are dropped. */
  get dropsTyping(): boolean {
    const max = this.deps.typingMaxSubscribers ?? 0;
    return max > 0 && this.#subscribers > max;
  }

  addSubscriber(subscriptionId: string): void {
    this.subscriptionIds.set(subscriptionId, (this.subscriptionIds.get(subscriptionId) ?? 0) + 1);
    this.#subscribers++;
  }

  removeSubscriber(subscriptionId: string): void {
    const n = this.subscriptionIds.get(subscriptionId) ?? 0;
    if (n === 0) return;
    if (n === 1) this.subscriptionIds.delete(subscriptionId);
    else this.subscriptionIds.set(subscriptionId, n - 1);
    this.#subscribers--;
  }

  /**
   * The stored events with seq in (cursor, lastSeq], oldest first, as the store would replay them now, when the
   * hub still holds all of them (recent-events.ts); else null. Empty when cursor ≥ lastSeq.
   */
  recentAfter(cursor: number): readonly HubEvent[] | null {
    return this.#recent.after(cursor, this.lastSeq);
  }

  /** As `recentAfter`, their MESSAGE templates (made once per event and kept with it). */
  recentTemplatesAfter(cursor: number): readonly TextMessageTemplate[] | null {
    return this.#recent.templatesAfter(cursor, this.lastSeq, (e) =>
      roomEventTemplate(e, this.#destination, this.deps.ephemeralId),
    );
  }

  /** Resolves once `seq` has been delivered locally, or after `timeoutMs` (never rejects). */
  whenDelivered(seq: number, timeoutMs: number): Promise<void> {
    if (seq <= this.lastSeq || this.#closed) return Promise.resolve();
    return this.#waiters.wait(seq, timeoutMs);
  }

  close(): void {
    this.#closed = true;
    this.#pending = [];
    this.#batch = [];
    this.#batchChars = 0;
    this.#batchPaced = false;
    this.#recent.clear();
    this.listeners.clear();
    this.#waiters.releaseAll();
  }

  #hold(event: HubEvent): void {
    if (this.#pending.length < PENDING_MAX) this.#pending.push(event);
    else this.#refill = true;
  }

  /** Accepts the next event in order: published now, or into the batch that the scheduled flush publishes. */
  #deliver(event: HubEvent): void {
    if (event.seq !== null) this.#acceptedSeq = event.seq;
    this.#batch.push(event);
    this.#batchChars += event.json.length;
    const windowed =
      this.deps.flushes !== undefined && this.#subscribers >= (this.deps.coalesceMinSubscribers ?? 0);
    const flushes = windowed ? this.deps.flushes : this.deps.taskFlushes;
    if (flushes === undefined || event.type === "member.left" || this.#batchChars >= BATCH_MAX_CHARS) {
      this.flush();
    } else if (windowed) {
      if (this.#batch.length === 1) flushes.schedule(this);
    } else if (this.#batch.length === 1) {
      const pacing = this.deps.pacing;
      if (pacing !== undefined && !pacing.allows(this.#paceTat, pacing.now())) {
        this.#batchPaced = true;
        pacing.flushes.schedule(this);
      } else {
        flushes.schedule(this);
      }
    } else if (!this.#batchPaced) {
      // Outside the window every event schedules the end of its task, idempotently: a room that fell below the
      // minimum publishes what it had batched together with this event, in order, without waiting for the window
      // (whose flush then finds nothing). A paced batch keeps waiting for its pace, which is at most one interval.
      flushes.schedule(this);
    }
  }

  /**
   * Publishes the pending batch: one message per subscription id subscribed now, then moves lastSeq, runs the
   * listeners and resolves the waiters, so whatever they send (a RECEIPT, a notification) follows the frames.
   */
  flush(): void {
    const events = this.#batch;
    if (events.length === 0 || this.#closed) return;
    this.#batch = [];
    this.#batchChars = 0;
    this.#batchPaced = false;
    const pacing = this.deps.pacing;
    if (pacing !== undefined) this.#paceTat = pacing.next(this.#paceTat, pacing.now());
    if (this.subscriptionIds.size > 0) {
      const templates = events.map((e) => roomEventTemplate(e, this.#destination, this.deps.ephemeralId));
      for (const id of this.subscriptionIds.keys()) {
        this.deps.publisher.publish(
          roomTopic(this.roomId, id),
          TextMessageTemplate.joinForSubscription(templates, id),
        );
      }
    }
    let sequenced = false;
    for (const event of events) {
      if (event.seq !== null) {
        this.lastSeq = event.seq;
        this.#recent.push(event);
        sequenced = true;
      }
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.deps.logger.error({ err, roomId: this.roomId }, "room event listener failed");
        }
      }
      if (event.type === "member.left" && event.userId !== null)
        this.deps.onMemberLeft(this.roomId, event.userId);
    }
    if (sequenced) this.#waiters.reached(this.lastSeq);
  }

  /** Reads the store from lastSeq until it is exhausted and no held event is beyond a gap, delivering in order. */
  async #fill(): Promise<void> {
    if (this.#filling || this.#closed) return;
    this.#filling = true;
    let retry = false;
    try {
      for (;;) {
        this.#refill = false;
        const before = this.#acceptedSeq;
        let batch: number;
        do {
          const events = await this.deps.messages.listEvents(this.roomId, this.#acceptedSeq, FILL_BATCH);
          if (this.#closed) return;
          batch = events.length;
          for (const e of events) {
            if (e.seq !== this.#acceptedSeq + 1) continue;
            const senderId = e.message?.senderId;
            const name = senderId === undefined ? "" : await this.deps.names.get(senderId);
            if (this.#closed) return;
            if (e.seq === this.#acceptedSeq + 1) this.#deliver(hubEventFromStore(e, name));
          }
        } while (batch === FILL_BATCH);
        const held = this.#pending.sort(bySeq);
        this.#pending = [];
        let gap = false;
        for (const e of held) {
          if (e.seq === null || e.seq <= this.#acceptedSeq) continue;
          if (e.seq === this.#acceptedSeq + 1) this.#deliver(e);
          else {
            gap = true;
            this.#pending.push(e);
          }
        }
        if (!gap && !this.#refill) {
          this.#stalls = 0;
          return;
        }
        if (this.#acceptedSeq === before && !this.#refill) {
          // The store has not caught up with what the broker announced: try again soon. An event the store never
          // confirms is dropped after a while; if it is real, the next read recovers it anyway.
          if (++this.#stalls >= MAX_STALLS) {
            this.#pending = [];
            this.#stalls = 0;
          } else {
            retry = true;
          }
          return;
        }
      }
    } catch (err) {
      this.deps.logger.warn({ err, roomId: this.roomId }, "room catch-up read failed; retrying");
      retry = true;
    } finally {
      this.#filling = false;
      if (retry && !this.#closed) setTimeout(() => void this.#fill(), RETRY_MS).unref?.();
    }
  }
}

function bySeq(a: HubEvent, b: HubEvent): number {
  return (a.seq ?? 0) - (b.seq ?? 0);
}
