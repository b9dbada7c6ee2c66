/**
 * A small set of objects kept as nothing (null), the object itself while there is one, and an array only from
 * the second: what an idle connection or user nearly always has is zero or one, and even an array of one costs a
 * cell and its storage per holder. Members are objects (never arrays), compared by identity, each at most once.
 */
export type OneOrMany<T extends object> = T | T[] | null;

/** The set with `item` added (the same array, grown, from the second on). */
export function addOne<T extends object>(set: OneOrMany<T>, item: T): OneOrMany<T> {
  if (set === null) return item;
  if (!Array.isArray(set)) return set === item ? set : [set, item];
  if (!set.includes(item)) set.push(item);
  return set;
}

/** The set without `item`: back to the item itself when one is left, null when none. */
export function removeOne<T extends object>(set: OneOrMany<T>, item: T): OneOrMany<T> {
  if (set === null || set === item) return null;
  if (!Array.isArray(set)) return set;
  const at = set.indexOf(item);
  if (at >= 0) set.splice(at, 1);
  return set.length === 1 ? (set[0] ?? null) : set;
}

export function sizeOf<T extends object>(set: OneOrMany<T>): number {
  return set === null ? 0 : Array.isArray(set) ? set.length : 1;
}
