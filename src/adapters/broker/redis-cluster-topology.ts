import { CLUSTER_SLOTS } from "./redis-cluster-slot.ts";

export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** How a master is named in a slot map: `host:port`, as it announces itself. */
export function nodeKey(address: ClusterNodeAddress): string {
  return `${address.host}:${address.port}`;
}

/**
 * Which master serves each hash slot, as one node reported it (CLUSTER SLOTS). Replicas are ignored: sharded
 * pub/sub is served by masters here.
 */
export class SlotMap {
  readonly #owners: ReadonlyArray<string | undefined>;
  readonly #addresses: ReadonlyMap<string, ClusterNodeAddress>;

  private constructor(owners: Array<string | undefined>, addresses: Map<string, ClusterNodeAddress>) {
    this.#owners = owners;
    this.#addresses = addresses;
  }

  /**
   * Reads a CLUSTER SLOTS reply. `askedHost` stands in for a master that announces no address (an empty or
   * "?" endpoint means "the host you reached me on").
   */
  static fromClusterSlots(reply: unknown, askedHost: string): SlotMap {
    if (!Array.isArray(reply)) throw new Error("CLUSTER SLOTS: unexpected reply");
    const owners = new Array<string | undefined>(CLUSTER_SLOTS).fill(undefined);
    const addresses = new Map<string, ClusterNodeAddress>();
    for (const range of reply) {
      if (!Array.isArray(range)) throw new Error("CLUSTER SLOTS: unexpected range");
      const [start, end, master] = range as unknown[];
      if (typeof start !== "number" || typeof end !== "number" || !Array.isArray(master)) {
        throw new Error("CLUSTER SLOTS: unexpected range");
      }
      const [ip, port] = master as unknown[];
      if (typeof ip !== "string" || typeof port !== "number")
        throw new Error("CLUSTER SLOTS: unexpected node");
      const address = { host: ip === "" || ip === "?" ? askedHost : ip, port };
      const key = nodeKey(address);
      addresses.set(key, address);
      for (let slot = Math.max(0, start); slot <= Math.min(end, CLUSTER_SLOTS - 1); slot++)
        owners[slot] = key;
    }
    return new SlotMap(owners, addresses);
  }

  /** The master serving `slot`, or undefined while no master serves it. */
  ownerOf(slot: number): string | undefined {
    return this.#owners[slot];
  }

  address(key: string): ClusterNodeAddress | undefined {
    return this.#addresses.get(key);
  }

  masters(): string[] {
    return [...this.#addresses.keys()];
  }

  equals(other: SlotMap): boolean {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (this.#owners[slot] !== other.#owners[slot]) return false;
    }
    return true;
  }

  /** Masters that serve here some slot they do not serve in `next`. */
  losers(next: SlotMap): Set<string> {
    const losers = new Set<string>();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const owner = this.#owners[slot];
      if (owner !== undefined && owner !== next.#owners[slot]) losers.add(owner);
    }
    return losers;
  }
}
