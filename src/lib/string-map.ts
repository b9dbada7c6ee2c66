/**
 * A map from string keys, for process-wide tables with an entry per connected user (tens of thousands of them),
 * kept in a prototype-less object in dictionary mode instead of a `Map`.
 *
 * Why: JSC grows a `Map`'s hash table fourfold at each step, so past 16,384 entries one entry costs up to ~180
 * bytes of table (about 50 below the step); a dictionary object costs ~50–60 bytes per entry at any size. For the
 * idle benchmark's 19,000 connections the two tables that use this (LocalUsers, LocalSubscribers) took ~290 bytes
 * per connection less JavaScript heap (docs/benchmarks/optimizations.md, "Idle: measured once idle"). Small maps
 * stay `Map`s: below a few thousand entries a `Map` is the smaller of the two.
 *
 * Guarantees: the `Map` semantics its users need — `get`/`set`/`has`/`delete`/`clear`/`size`, any string key
 * (`__proto__` and numeric-looking ones included: the object has no prototype). `keys()` and `values()` are
 * snapshots (arrays of what is present when called), not live iterators; their order is not insertion order
 * (numeric-looking keys come first), and no user here depends on order. Values must not be `undefined` (it means
 * "absent").
 *
 * `values()` is `Object.values`, about as fast as iterating a Map (0.7 against 0.3 ms for 19,000 entries), which
 * matters because the presence tracker walks every user once a tick. Enumerating the keys of a dictionary object
 * is ~20× slower (`for…in` and `Object.keys` alike: 5.5–6 ms for 19,000), so `keys()` is for rare calls only (the
 * broker's resubscribe after a reconnect).
 */
export class StringMap<V> {
  #entries: Record<string, V> = StringMap.#dictionary<V>();
  #size = 0;

  /** A prototype-less object already in dictionary mode (a delete puts it there), so no shape per key added. */
  static #dictionary<V>(): Record<string, V> {
    const o = Object.create(null) as Record<string, V>;
    o["\u0000"] = undefined as V;
    delete o["\u0000"];
    return o;
  }

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    return this.#entries[key];
  }

  has(key: string): boolean {
    return this.#entries[key] !== undefined;
  }

  set(key: string, value: V): this {
    if (this.#entries[key] === undefined) this.#size++;
    this.#entries[key] = value;
    return this;
  }

  delete(key: string): boolean {
    if (this.#entries[key] === undefined) return false;
    delete this.#entries[key];
    this.#size--;
    return true;
  }

  clear(): void {
    this.#entries = StringMap.#dictionary<V>();
    this.#size = 0;
  }

  /** The keys present now. Slow on a large table (see the class comment): for rare calls. */
  keys(): string[] {
    return Object.keys(this.#entries);
  }

  /** The values present now. */
  values(): V[] {
    return Object.values(this.#entries);
  }
}
