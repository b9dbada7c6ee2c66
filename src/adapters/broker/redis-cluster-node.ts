import { Redis } from "ioredis";
import type { BrokerErrorHook } from "../../ports/broker.ts";
import { quitRedis } from "../redis/quit-redis.ts";
import type { ClusterNodeAddress } from "./redis-cluster-topology.ts";

/** What a master's connections report to the broker that owns them. */
export interface ClusterNodeHooks {
  /** A shard message arrived on the subscriber connection. */
  message(wire: Buffer, payload: Buffer): void;
  /** The subscriber connection closed after having been ready: the server forgot its subscriptions. */
  subscriberLost(node: ClusterNodeConnections): void;
  subscriberReady(node: ClusterNodeConnections): void;
  /**
   * The slot map the broker routes by is out of date: the server answered an SSUBSCRIBE with MOVED, or
   * dropped shard channels of a slot it gave up.
   */
  moved(node: ClusterNodeConnections): void;
  publisherReady(node: ClusterNodeConnections): void;
  error: BrokerErrorHook;
}

/**
 * The two connections a broker keeps to one master, with the same roles and failure behaviour as the
 * single-endpoint Redis broker: a publisher that fails fast (no offline queue, no retry, no resend) and a
 * subscriber that reconnects on its own and leaves restoring subscriptions to the broker.
 */
export class ClusterNodeConnections {
  readonly key: string;
  readonly address: ClusterNodeAddress;
  readonly pub: Redis;
  readonly sub: Redis;
  /** Set once the broker stops using this master (it no longer serves slots); its connections are closing. */
  retired = false;

  #subWasReady = false;
  #abort = abortSignal();
  #publishesWaiting = 0;
  #lastPublishAnswerAt = Date.now();
  #pingWaiting: object | null = null;

  constructor(key: string, address: ClusterNodeAddress, connectionName: string, hooks: ClusterNodeHooks) {
    this.key = key;
    this.address = address;
    const base = { host: address.host, port: address.port, lazyConnect: true };
    this.pub = new Redis({
      ...base,
      connectionName: `${connectionName}:pub`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    });
    this.sub = new Redis({
      ...base,
      connectionName: `${connectionName}:sub`,
      autoResubscribe: false,
      // ioredis writes SSUBSCRIBE during the connection handshake already; the INFO of its ready check would
      // then be refused in subscriber mode and the connection torn down again.
      enableReadyCheck: false,
    });
    this.pub.on("error", hooks.error);
    this.sub.on("error", (error: Error) => {
      hooks.error(error);
      // A master that gives up a slot unsubscribes its shard channels by itself; ioredis reports that reply,
      // which no command of ours asked for, only as this error. The periodic slot map check is the fallback.
      if (/Last reply: sunsubscribe/.test(error.message)) hooks.moved(this);
    });
    this.pub.on("ready", () => hooks.publisherReady(this));
    this.sub.on("smessageBuffer", (wire: Buffer, payload: Buffer) => hooks.message(wire, payload));
    this.sub.on("close", () => {
      if (this.#subWasReady) hooks.subscriberLost(this);
    });
    this.sub.on("ready", () => {
      this.#subWasReady = true;
      hooks.subscriberReady(this);
    });
    // ioredis answers a MOVED reply to SSUBSCRIBE with this event and never settles the command: see guard().
    this.sub.on("moved", () => hooks.moved(this));
  }

  /** Resolves once both connections are ready. */
  async connect(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
  }

  /**
   * Settles like `command` (one sent on the subscriber connection), or rejects when abortSubscriberCommands()
   * is called first. Needed because a command answered with MOVED would otherwise never settle.
   */
  guard<T>(command: Promise<T>): Promise<T> {
    return Promise.race([command, this.#abort.promise]);
  }

  /** Rejects every guarded subscriber command still waiting for its answer. */
  abortSubscriberCommands(reason: Error): void {
    const current = this.#abort;
    this.#abort = abortSignal();
    current.reject(reason);
  }

  /** Sends SPUBLISH synchronously (so publish order on this master is call order) and tracks its answer. */
  async publish(wire: string, data: string | Buffer): Promise<void> {
    const sent = this.pub.spublish(wire, data);
    if (this.#publishesWaiting++ === 0) this.#lastPublishAnswerAt = Date.now();
    try {
      await sent;
    } finally {
      this.#publishesWaiting--;
      this.#lastPublishAnswerAt = Date.now();
    }
  }

  /**
   * One round of the watchdog for connections that die silently (a peer that vanished without closing TCP):
   * the subscriber is PINGed and reconnected if the previous PING is still unanswered; the publisher is
   * reconnected if publishes are waiting and none has been answered for a whole interval.
   */
  checkHealth(intervalMs: number, onError: BrokerErrorHook): void {
    if (this.sub.status === "ready") {
      if (this.#pingWaiting !== null) {
        this.#pingWaiting = null;
        onError(new Error(`broker subscriber connection to ${this.key} stopped answering; reconnecting`));
        this.sub.disconnect(true);
      } else {
        const token = {};
        this.#pingWaiting = token;
        const answered = () => {
          if (this.#pingWaiting === token) this.#pingWaiting = null;
        };
        this.sub.ping().then(answered, answered);
      }
    }
    if (
      this.pub.status === "ready" &&
      this.#publishesWaiting > 0 &&
      Date.now() - this.#lastPublishAnswerAt >= intervalMs
    ) {
      onError(new Error(`broker publisher connection to ${this.key} stopped answering; reconnecting`));
      this.pub.disconnect(true);
    }
  }

  /** Closes both connections, politely if they are up. */
  async quit(): Promise<void> {
    await Promise.all([quitRedis(this.pub), quitRedis(this.sub)]);
  }

  disconnect(): void {
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

interface Abort {
  readonly promise: Promise<never>;
  readonly reject: (reason: Error) => void;
}

function abortSignal(): Abort {
  let reject: (reason: Error) => void = () => {};
  const promise = new Promise<never>((_, fail) => {
    reject = fail;
  });
  // Nobody may be waiting when it fires; that is not an unhandled rejection.
  promise.catch(() => {});
  return { promise, reject };
}
