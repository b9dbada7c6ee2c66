import { monotonicFactory } from "ulid";
import type { IdGenerator } from "../../ports/ids.ts";

/** ULIDs: 128-bit, time-sortable, unguessable in their random part; monotonic within one process. */
export function ulidIds(): IdGenerator {
  const next = monotonicFactory();
  return { next: () => next() };
}
