import { UNREAD_COUNT_MAX } from "../domain/rules.ts";
import type { RoomReadState } from "../ports/store.ts";
import type { UserNotice } from "./user-notice.ts";

/**
 * How many count-moving events a room remembers for a read notice whose count was read before they arrived. Only
 * events committed between the count being read and the notice's delivery (a few milliseconds) are needed, so
 * this is ample at the default per-room send cap (100 messages per second); a notice that needs older ones is
 * taken as it comes.
 */
export const MOVES_KEPT = 16;

/** What a deletion did to the count (see UnreadCount.onDeleted). */
export type DeletionEffect =
  /** Not in the count (at or below the marker, or the count already 0): nothing to tell. */
  | "none"
  /** Taken off the count: a notice with the new count. */
  | "moved"
  /** In the count, which stays at the cap and may now be one too high: a notice, and the count is inexact. */
  | "capped"
  /** A deletion without `messageSeq` cannot be placed against the marker: the count is left, inexact. */
  | "unplaced";

/**
 * One user's unread count in one room, kept equal to the store's rule — others' messages, not deleted, above the
 * read marker, up to UNREAD_COUNT_MAX ("that many or more") — from the count read from the store, the room's
 * stored events and the user's read notices. Each stored event moves the count at most once: events up to
 * `baseSeq` are already in it, whether through a count read from the store or through an earlier delivery of the
 * same seq. Notifications owns one per followed room (notifications.ts); the arithmetic lives here.
 */
export class UnreadCount {
  /** Never above UNREAD_COUNT_MAX (see onDeleted). */
  unread = 0;
  readSeq = 0;
  /** Events up to this seq are already counted in `unread`. */
  baseSeq = 0;
  /**
   * The events after `movesFrom` (up to `baseSeq`) that move a count, oldest first, as pairs [seq, deletedSeq]:
   * deletedSeq 0 for another's message, else the seq of another's message it deleted. Every such event in that
   * range is here, so a count read at any seq from `movesFrom` on can be brought up to `baseSeq`. Null when
   * empty.
   */
  moves: number[] | null = null;
  movesFrom = 0;

  /** Starts from the store's count, exact at its `lastSeq`. */
  load(state: RoomReadState): void {
    this.unread = state.unreadCount;
    this.readSeq = state.readSeq;
    this.baseSeq = state.lastSeq;
    this.moves = null;
    this.movesFrom = state.lastSeq;
  }

  /** Takes a stored event's seq; false when it is already in the count (it must not move it again). */
  accept(seq: number): boolean {
    if (seq <= this.baseSeq) return false;
    this.baseSeq = seq;
    return true;
  }

  /** Another member's message, accepted: one more, except at the cap, where the count stays ("or more"). */
  onMessage(seq: number): void {
    this.#remember(seq, 0);
    if (this.unread < UNREAD_COUNT_MAX) this.unread++;
  }

  /**
   * The deletion (event `seq`, accepted) of another member's message `messageSeq`. The count holds the message
   * exactly when it lies above the read marker: either its seq is at or below the seq the count was read at (and
   * it was not deleted then), or its `message` event, which precedes the deletion in the stream, added it since.
   * The store appends message.deleted once per message, so no second deletion of it can follow.
   *
   * At the cap the count stays there: it cannot tell whether the true count was exactly the cap or more. More is
   * the usual case (a count reaches the cap in a busy room its member does not read), where lowering it would be
   * wrong and visible; if it was exactly the cap, each such deletion over-states it by one (a later message from
   * another takes one back) until the next read notice or subscription brings the store's count. applyRead
   * replays deletions alike.
   */
  onDeleted(seq: number, messageSeq: number | null): DeletionEffect {
    if (messageSeq === null) return "unplaced";
    // Deleting a message at or below the marker moves no count, now or for a notice (its marker is not lower).
    if (messageSeq <= this.readSeq) return "none";
    this.#remember(seq, messageSeq);
    // Never below zero: a read notice that overtook this event may already leave the message out.
    if (this.unread === 0) return "none";
    if (this.unread < UNREAD_COUNT_MAX) {
      this.unread--;
      return "moved";
    }
    return "capped";
  }

  /**
   * Takes the count of a read notice whose marker is not behind the one held. The count is exact (as capped) at
   * `countedSeq`: events up to it are in it, so one delivered here only later (a room in its coalescing window, a
   * sender's name being loaded, the room's channel behind the user's) must not move it again; events after it
   * that were already applied are applied to it again from `moves`.
   *
   * Returns false when the count taken may not be exact (beyond what the cap allows): a notice without
   * `countedSeq`, one counted before the oldest move kept, or a deletion replayed at the cap.
   */
  applyRead(notice: Extract<UserNotice, { type: "read" }>, stillLoading: boolean): boolean {
    const { readSeq } = notice;
    // A version that does not send countedSeq read its count after every event up to readSeq had committed.
    const countedSeq = notice.countedSeq ?? readSeq;
    const exact = notice.countedSeq !== undefined;
    // The count held is exact at baseSeq for this same marker, so a notice counted before it is no newer. One
    // counted at baseSeq is taken: the same count, except that it also ends an over-statement left at the cap
    // (see onDeleted).
    if (exact && readSeq === this.readSeq && countedSeq < this.baseSeq && !stillLoading) return true;
    let unread = notice.unreadCount;
    let exactAfter = exact;
    const moves = this.moves;
    if (exact && countedSeq < this.baseSeq) {
      // Events in (countedSeq, baseSeq] were applied before and must be again; `moves` has them from movesFrom.
      if (countedSeq < this.movesFrom) exactAfter = false;
      else if (moves !== null) {
        for (let i = 0; i < moves.length; i += 2) {
          const seq = moves[i] as number;
          const deletedSeq = moves[i + 1] as number;
          if (seq <= countedSeq) continue;
          // Kept at the cap both ways, as the live events are (onMessage, onDeleted).
          if (deletedSeq === 0) unread = Math.min(unread + 1, UNREAD_COUNT_MAX);
          // In the count exactly when above the new marker: read with it (deleted after countedSeq), or added
          // by its own message event above. Never below zero, as in onDeleted.
          else if (deletedSeq > readSeq && unread > 0) {
            if (unread < UNREAD_COUNT_MAX) unread--;
            else exactAfter = false;
          }
        }
      }
    }
    this.readSeq = readSeq;
    this.unread = unread;
    this.baseSeq = Math.max(this.baseSeq, countedSeq);
    // Later notices normally count from here on (their reads commit after this one), so older moves can go; one
    // whose count is older than the oldest move kept is taken as it comes.
    if (countedSeq > this.movesFrom) {
      this.movesFrom = countedSeq;
      if (moves !== null) {
        let i = 0;
        while (i < moves.length && (moves[i] as number) <= countedSeq) i += 2;
        this.moves = i === moves.length ? null : moves.slice(i);
      }
    }
    return exactAfter;
  }

  /** Records a count-moving event (see `moves`), forgetting the oldest beyond MOVES_KEPT. */
  #remember(seq: number, deletedSeq: number): void {
    const moves = this.moves ?? [];
    moves.push(seq, deletedSeq);
    if (moves.length > 2 * MOVES_KEPT) {
      // Two shifts rather than a splice: this runs per message per follower, and a splice makes an array.
      this.movesFrom = moves.shift() as number;
      moves.shift();
    }
    this.moves = moves;
  }
}
