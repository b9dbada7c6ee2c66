import type { Logger } from "pino";
import type { Broker, BrokerSubscription } from "../ports/broker.ts";
import type { MessageRepository, RoomRepository } from "../ports/store.ts";
import { roomChannel } from "./channels.ts";
import { FlushScheduler } from "./frame-batcher.ts";
import { parseHubEvent } from "./hub-event.ts";
import { PublishPacing } from "./publish-pacing.ts";
import { RoomHub, type TopicPublisher } from "./room-hub.ts";
import type { UserNames } from "./user-names.ts";

export interface HubRegistryDeps {
  readonly broker: Broker;
  readonly rooms: Pick<RoomRepository, "findById">;
  readonly messages: Pick<MessageRepository, "listEvents">;
  readonly names: UserNames;
  readonly publisher: TopicPublisher;
  readonly logger: Logger;
  readonly ephemeralId: () => string;
  readonly onMemberLeft: (roomId: string, userId: string) => void;
  /**
   * How long a large room's events may wait to share one WebSocket message per subscriber topic (0 or absent: no
   * window, large rooms are published like small ones). Bun already writes everything published to one socket
   * within one loop iteration in one send, so a window saves kernel writes only where a socket gets events from
   * several loop iterations inside it — rooms of thousands (docs/benchmarks/optimizations.md, docs/realtime.md).
   * Every other room publishes the events of one task together, at the end of that task (RoomHubDeps.taskFlushes).
   */
  readonly coalesceMs?: number;
  /** Rooms with fewer local subscriptions than this do not wait for the window (RoomHubDeps). */
  readonly coalesceMinSubscribers?: number;
  /**
   * The pace of a busy room outside the window: at most `burst` publishes in a row, then one per `intervalMs`
   * (publish-pacing.ts). Absent or an interval of 0: such a room publishes at the end of every task.
   */
  readonly pace?: { readonly intervalMs: number; readonly burst: number };
  /** Above this many local subscriptions a room's hub drops typing events (RoomHubDeps; 0 or absent: never). */
  readonly typingMaxSubscribers?: number;
}

/** A claim on an active hub; the hub lives while any lease on it is held. `release` is idempotent. */
export interface HubLease {
  readonly hub: RoomHub;
  release(): void;
}

interface Entry {
  readonly hub: RoomHub;
  refs: number;
  ready: Promise<void>;
  subscription: BrokerSubscription | null;
}

/**
 * A lease is one object, with no closure of its own: every room subscription of every connection holds one while
 * it lasts. `drop` is one function per registry, shared by all its leases.
 */
class Lease implements HubLease {
  #released = false;

  constructor(
    private readonly entry: Entry,
    private readonly drop: (entry: Entry) => void,
  ) {}

  get hub(): RoomHub {
    return this.entry.hub;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.drop(this.entry);
  }
}

/**
 * The room hubs of this process, one per room with local interest (subscribers or notification listeners),
 * each with one broker subscription shared by all of them. On a broker resync every active hub re-reads the
 * store from its lastSeq. All hubs share one end-of-task FlushScheduler (one microtask per task that delivered
 * events), with a coalescing window one windowed FlushScheduler (one timer per window), and with a pace one
 * pacing FlushScheduler (one timer per interval in which some room was paced).
 */
export class HubRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #stopResync: () => void;
  readonly #flushes: FlushScheduler | undefined;
  readonly #taskFlushes: FlushScheduler;
  readonly #pacing: PublishPacing | undefined;
  readonly #dropLease = (entry: Entry): void => this.#drop(entry.hub.roomId, entry);
  #closed = false;

  constructor(private readonly deps: HubRegistryDeps) {
    const coalesceMs = deps.coalesceMs ?? 0;
    const onError = (err: unknown) => deps.logger.error({ err }, "room frame flush failed");
    this.#flushes = coalesceMs > 0 ? new FlushScheduler(coalesceMs, onError) : undefined;
    this.#taskFlushes = new FlushScheduler(0, onError);
    const pace = deps.pace;
    this.#pacing =
      pace !== undefined && pace.intervalMs > 0
        ? new PublishPacing(pace.intervalMs, pace.burst, new FlushScheduler(pace.intervalMs, onError))
        : undefined;
    this.#stopResync = deps.broker.onResync(() => {
      for (const e of this.#entries.values()) e.hub.resync();
    });
  }

  /** Number of active hubs (for metrics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** The hub of a room if it is active on this process. */
  get(roomId: string): RoomHub | undefined {
    return this.#entries.get(roomId)?.hub;
  }

  /**
   * Resolves once the room's hub is subscribed to the broker and knows its starting seq. Rejects (holding
   * nothing) if the broker or the store fails.
   */
  async acquire(roomId: string): Promise<HubLease> {
    if (this.#closed) throw new Error("real-time gateway is closed");
    let entry = this.#entries.get(roomId);
    if (entry === undefined) {
      entry = this.#create(roomId);
      this.#entries.set(roomId, entry);
    } else {
      entry.refs++;
    }
    const held = entry;
    try {
      await held.ready;
    } catch (err) {
      this.#drop(roomId, held);
      throw err;
    }
    return new Lease(held, this.#dropLease);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopResync();
    this.#flushes?.close();
    this.#taskFlushes.close();
    this.#pacing?.flushes.close();
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of entries) e.hub.close();
    await Promise.allSettled(entries.map((e) => e.subscription?.unsubscribe()));
  }

  #create(roomId: string): Entry {
    const hub = new RoomHub(roomId, {
      ...this.deps,
      flushes: this.#flushes,
      taskFlushes: this.#taskFlushes,
      pacing: this.#pacing,
    });
    const entry: Entry = { hub, refs: 1, ready: Promise.resolve(), subscription: null };
    const ready = (async () => {
      entry.subscription = await this.deps.broker.subscribe(roomChannel(roomId), (payload) => {
        const event = parseHubEvent(roomId, payload);
        if (event !== null) hub.receive(event);
      });
      // Subscribed first, then read: everything committed after this read arrives through the subscription.
      const room = await this.deps.rooms.findById(roomId);
      hub.start(room?.lastSeq ?? 0);
    })();
    entry.ready = ready;
    ready.catch(() => {});
    return entry;
  }

  #drop(roomId: string, entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.#entries.get(roomId) === entry) this.#entries.delete(roomId);
    entry.hub.close();
    entry.ready
      .then(
        () => entry.subscription?.unsubscribe(),
        () => {},
      )
      // A broker closing under a pending unsubscribe rejects it; the subscription is gone either way.
      .catch((err: unknown) => this.deps.logger.debug({ err, roomId }, "room channel unsubscribe failed"));
  }
}
