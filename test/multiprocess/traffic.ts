/**
 * Clients as a careful application writes them: a publisher that retries an unanswered SEND with the same
 * client-msg-id (on another process if its own died), and a subscriber that, when its connection drops,
 * reconnects elsewhere and resumes each room with since-seq = the last seq it saw. The guarantees under test
 * are exactly what lets such clients end with every message once.
 */
import type { NodeProcess } from "./cluster.ts";
import { RoomLog } from "./room-log.ts";
import { connectPeer, SendRejected, type StompPeer } from "./stomp-peer.ts";

export interface Planned {
  readonly roomId: string;
  readonly clientMsgId: string;
  readonly text: string;
}

export interface Committed extends Planned {
  readonly messageId: string;
  readonly seq: number;
}

/** Picks a live process to (re)connect to. */
export type NodePicker = () => NodeProcess;

const RECONNECT_DEADLINE_MS = 10_000;
/** How long one message is retried before the publisher gives up. */
const SEND_DEADLINE_MS = 20_000;

export function plan(roomId: string, count: number, tag: string): Planned[] {
  return Array.from({ length: count }, (_, i) => ({
    roomId,
    clientMsgId: `${tag}-${i + 1}`,
    text: `${tag} message ${i + 1}`,
  }));
}

/** The first process in `order` that is still running. */
export function firstAlive(order: readonly NodeProcess[]): NodePicker {
  return () => {
    const node = order.find((n) => n.alive());
    if (node === undefined) throw new Error("no live process left");
    return node;
  };
}

async function connectSomewhere(pick: NodePicker, token: string): Promise<StompPeer> {
  const deadline = Date.now() + RECONNECT_DEADLINE_MS;
  for (;;) {
    const node = pick();
    try {
      return await connectPeer(node.wsUrl, token, node.name);
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await Bun.sleep(50);
    }
  }
}

export class Publisher {
  /** Codes of rejected SENDs (each was retried). */
  readonly rejections: string[] = [];
  /** SENDs repeated because no RECEIPT came (connection lost or timeout). */
  unanswered = 0;
  /** Connections opened after the first. */
  reconnects = 0;
  #peer: Promise<StompPeer> | null = null;
  #connections = 0;

  constructor(
    private readonly token: string,
    private readonly pick: NodePicker,
  ) {}

  /** The current open connection, or a new one (one connect at a time, shared by concurrent callers). */
  async peer(): Promise<StompPeer> {
    for (;;) {
      const pending = this.#peer;
      if (pending !== null) {
        const current = await pending.catch(() => null);
        if (current?.isOpen()) return current;
        // Another caller already replaced the dead connection while we waited: use theirs.
        if (this.#peer !== pending) continue;
      }
      if (this.#connections++ > 0) this.reconnects++;
      this.#peer = connectSomewhere(this.pick, this.token);
      return this.#peer;
    }
  }

  /** Sends until a RECEIPT arrives, always with the same client-msg-id, so a retry can never store twice. */
  async send(m: Planned): Promise<Committed> {
    const deadline = Date.now() + SEND_DEADLINE_MS;
    for (;;) {
      const peer = await this.peer();
      try {
        const r = await peer.send(m.roomId, m.text, m.clientMsgId);
        return { ...m, messageId: r.messageId, seq: r.seq };
      } catch (e) {
        if (Date.now() >= deadline) throw e;
        if (e instanceof SendRejected) {
          this.rejections.push(e.code);
          await Bun.sleep(100);
        } else {
          this.unanswered++;
        }
      }
    }
  }

  /** Sends the messages one after another (each after the previous RECEIPT). */
  async sendAll(messages: readonly Planned[], onCommitted?: (c: Committed) => void): Promise<Committed[]> {
    const out: Committed[] = [];
    for (const m of messages) {
      const c = await this.send(m);
      out.push(c);
      onCommitted?.(c);
    }
    return out;
  }

  async close(): Promise<void> {
    const current = this.#peer === null ? null : await this.#peer.catch(() => null);
    await current?.disconnect();
  }
}

export interface Resume {
  readonly node: string;
  /** since-seq sent per room. */
  readonly sinceSeq: ReadonlyMap<string, number>;
}

export class Subscriber {
  readonly logs = new Map<string, RoomLog>();
  /** Every (re)subscription: the first has since-seq 0 everywhere. */
  readonly resumes: Resume[] = [];
  /** Failover attempts that failed (the error text), for diagnostics. */
  readonly failoverErrors: string[] = [];
  #peer: StompPeer | null = null;
  #stopped = false;

  constructor(
    readonly label: string,
    private readonly token: string,
    roomIds: readonly string[],
  ) {
    for (const id of roomIds) this.logs.set(id, new RoomLog(id, label));
  }

  get peer(): StompPeer | null {
    return this.#peer;
  }

  /**
   * Connects to `node` and subscribes to every room with since-seq = the last seq seen there. With `failover`,
   * a lost connection is replaced by one to the process it picks, resuming the same way.
   */
  async attach(node: NodeProcess, failover?: NodePicker): Promise<void> {
    await this.#attachTo(() => node, failover);
  }

  async #attachTo(pick: NodePicker, failover: NodePicker | undefined): Promise<void> {
    const peer = await connectSomewhere(pick, this.token);
    this.#peer = peer;
    const since = new Map<string, number>();
    for (const log of this.logs.values()) since.set(log.roomId, log.lastSeq());
    this.resumes.push({ node: peer.node, sinceSeq: since });
    try {
      await Promise.all(
        [...this.logs.values()].map((log) => peer.subscribeRoom(log.roomId, log, since.get(log.roomId))),
      );
    } catch (e) {
      // A half-subscribed connection must not keep delivering next to its replacement.
      await peer.disconnect().catch(() => {});
      throw e;
    }
    if (failover !== undefined) {
      void peer.closed.then(async () => {
        for (let attempt = 1; attempt <= 5 && !this.#stopped; attempt++) {
          try {
            await this.#attachTo(failover, failover);
            return;
          } catch (e) {
            this.failoverErrors.push(e instanceof Error ? e.message : String(e));
            await Bun.sleep(100);
          }
        }
      });
    }
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#peer?.disconnect();
  }
}
