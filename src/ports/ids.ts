/**
 * Id source, injected so tests are deterministic. Ids are opaque to clients, unique across processes, and sort
 * by creation time (ULIDs), which makes them usable as paging cursors and index-friendly.
 */
export interface IdGenerator {
  next(): string;
}
