/**
 * The per-wire state behind a broker's server subscriptions ("links"), with the guarantee both Redis brokers
 * build on: the commands for one wire run one after another, each starting only once the one before has settled
 * (fulfilled or not), so a SUBSCRIBE and an UNSUBSCRIBE of one channel never race on the server. Running every
 * change through `run` after the local state changed thus leaves the server matching the latest local state.
 *
 * A wire's state is forgotten once its last queued command has settled and `idle` says nothing is left to
 * remember (not subscribed, not wanted), so the map holds only wires that are, or are about to be, subscribed.
 */
export class SubscriptionLinks<S> {
  readonly #links = new Map<string, { readonly state: S; chain: Promise<void> }>();

  constructor(
    private readonly fresh: () => S,
    private readonly idle: (wire: string, state: S) => boolean,
  ) {}

  /** Runs `step` on the wire's state after every earlier step for that wire has settled; settles like `step`. */
  run(wire: string, step: (state: S) => Promise<void>): Promise<void> {
    let link = this.#links.get(wire);
    if (link === undefined) {
      link = { state: this.fresh(), chain: Promise.resolve() };
      this.#links.set(wire, link);
    }
    const current = link;
    const run = current.chain.then(() => step(current.state));
    const tail: Promise<void> = run.then(noop, noop).then(() => {
      if (current.chain === tail && this.idle(wire, current.state)) this.#links.delete(wire);
    });
    current.chain = tail;
    return run;
  }

  /** The state of every wire still remembered. */
  *states(): Generator<S> {
    for (const link of this.#links.values()) yield link.state;
  }
}

function noop(): void {}
