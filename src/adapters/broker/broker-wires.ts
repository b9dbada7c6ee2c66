import type { LocalSubscribers } from "./local-subscribers.ts";

/**
 * How a Redis broker names its channels on the server ("wires") and which of them it wants subscribed. A port
 * channel travels on `<prefix>ch:<channel>`, so deployments sharing one server stay apart and no caller's channel
 * can collide with the control wire `<prefix>ctl:resync`, which carries every process's resync notices.
 *
 * The control wire is wanted while the broker is open, a data wire while its channel has a local subscriber;
 * nothing is wanted, and nothing delivered, once the broker is closed. Subscribing, restoring after a reconnect
 * and delivering all ask this one place, so they cannot disagree about what should be on the server.
 */
export class BrokerWires {
  readonly control: string;
  readonly #dataPrefix: string;

  constructor(
    prefix: string,
    private readonly local: LocalSubscribers,
    private readonly isClosed: () => boolean,
  ) {
    this.#dataPrefix = `${prefix}ch:`;
    this.control = `${prefix}ctl:resync`;
  }

  /** The wire that carries `channel`. */
  of(channel: string): string {
    return this.#dataPrefix + channel;
  }

  wanted(wire: string): boolean {
    return (
      !this.isClosed() &&
      (wire === this.control ||
        (wire.startsWith(this.#dataPrefix) && this.local.has(wire.slice(this.#dataPrefix.length))))
    );
  }

  /** Every wire wanted now: after the server forgot the subscriptions, restoring these restores them all. */
  allWanted(): string[] {
    return [this.control, ...this.local.channels().map((channel) => this.of(channel))];
  }

  /**
   * Hands a message the server delivered on `wire` to the channel's local subscribers, or, on the control wire,
   * to the resync listeners. Wires of other prefixes are ignored.
   */
  receive(wire: Buffer, payload: Buffer): void {
    if (this.isClosed()) return;
    const name = wire.toString();
    if (name === this.control) this.local.fireResync();
    else if (name.startsWith(this.#dataPrefix))
      this.local.deliver(name.slice(this.#dataPrefix.length), payload);
  }
}
