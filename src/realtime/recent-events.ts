import type { HubEvent } from "./hub-event.ts";
import type { TextMessageTemplate } from "./text-frames.ts";

/**
 * Most events a hub keeps for resumes. A resume after a network blip or a reconnect storm misses a few seconds
 * of its room: 64 events are 64 s of a room at 1 msg/s, 6 s at 10 msg/s (seed's rooms of 50); a longer gap is
 * read from the store as before. The bound is set by memory, since every room with traffic keeps its run: a
 * message event's JSON is about 330 characters, so a full run of ordinary messages holds some 21 KB of JSON plus
 * ~100 bytes of object per event (1,000 busy rooms: ~22 MB), about twice that where resumes have been served
 * from it (their templates are kept). A hub only holds what it has published since it was created, so quiet
 * rooms cost next to nothing.
 */
export const RECENT_MAX_EVENTS = 64;
/**
 * Most characters of JSON the ring holds, whatever the count: with long messages (4,000 characters each) the
 * ring keeps fewer of them rather than a quarter of a megabyte per hub. 32 Ki characters are 32–64 KiB.
 */
export const RECENT_MAX_CHARS = 32 * 1024;
/**
 * A room's most recently published stored events, as the store would replay them now: a contiguous run of seqs
 * ending at the last one pushed, so that a resume whose cursor falls inside it can be served from memory.
 *
 * The store replays a message in its current state (edited body, or a tombstone once deleted), while this holds
 * each event as it was published. So when a message.edited or message.deleted is pushed, every entry that shows
 * the affected message — the message itself and its earlier message.edited events — is dropped together with
 * everything before it (the run stays contiguous), and an edit or deletion that does not say which message it
 * concerns (`messageSeq` null, from another version) drops the whole run, itself included. The entries left are
 * then exactly what the store holds for those seqs, up to the last seq pushed; a change committed after it
 * reaches the resumed subscription as a live event, as it reaches every live one.
 *
 * One difference is accepted: a message event carries the sender's display name as it was when the event was
 * published, where the store path puts in the current one (from the name cache); a rename shows on the next
 * message either way.
 *
 * Templates (the encoded frames) are built on first use by a resume and kept with their event, so a reconnect
 * storm encodes each event once, and a hub that serves no resume holds none.
 */
export class RecentEvents {
  /**
   * Oldest first, seqs contiguous. A plain array: with at most RECENT_MAX_EVENTS entries, dropping from its front
   * costs less than the index arithmetic of a ring would save.
   */
  #entries: Entry[] = [];
  #chars = 0;

  /** How many events are held. */
  get size(): number {
    return this.#entries.length;
  }

  /** The seqs held, oldest first (for tests and diagnostics). */
  seqs(): number[] {
    return this.#entries.map((e) => e.seq);
  }

  /**
   * Adds the event just published after the newest one. An ephemeral event is ignored; a seq that does not follow
   * the newest one starts a new run.
   */
  push(event: HubEvent): void {
    const seq = event.seq;
    if (seq === null) return;
    const newest = this.#entries.at(-1);
    if (newest !== undefined && seq !== newest.seq + 1) this.clear();
    this.#entries.push({ seq, event, template: null });
    this.#chars += event.json.length;
    while (
      this.#entries.length > RECENT_MAX_EVENTS ||
      (this.#chars > RECENT_MAX_CHARS && this.#entries.length > 0)
    )
      this.#dropFirst(1);
    if (event.type === "message.edited" || event.type === "message.deleted") this.#forget(event.messageSeq);
  }

  /**
   * The events with seq in (cursor, head], oldest first, if the run ends at `head` and holds all of them; else
   * null. Empty when cursor ≥ head.
   */
  after(cursor: number, head: number): readonly HubEvent[] | null {
    return this.#after(cursor, head)?.map((e) => e.event) ?? null;
  }

  /** As `after`, the events' frame templates, each made by `make` on first use and kept with its event. */
  templatesAfter(
    cursor: number,
    head: number,
    make: (event: HubEvent) => TextMessageTemplate,
  ): readonly TextMessageTemplate[] | null {
    const entries = this.#after(cursor, head);
    if (entries === null) return null;
    return entries.map((e) => {
      e.template ??= make(e.event);
      return e.template;
    });
  }

  clear(): void {
    this.#entries = [];
    this.#chars = 0;
  }

  /** The entries for (cursor, head], or null when the run does not cover it. */
  #after(cursor: number, head: number): Entry[] | null {
    if (cursor >= head) return [];
    const first = this.#entries[0];
    if (first === undefined || this.#entries.at(-1)?.seq !== head || cursor < first.seq - 1) return null;
    return this.#entries.slice(cursor + 1 - first.seq);
  }

  /** Drops the newest entry before the last that shows message `messageSeq`, and everything before it. */
  #forget(messageSeq: number | null): void {
    if (messageSeq === null) {
      this.clear();
      return;
    }
    for (let i = this.#entries.length - 2; i >= 0; i--) {
      const e = this.#entries[i];
      if (e === undefined || e.seq < messageSeq) return;
      if (e.seq === messageSeq || e.event.messageSeq === messageSeq) {
        this.#dropFirst(i + 1);
        return;
      }
    }
  }

  /** Drops the `n` oldest entries. */
  #dropFirst(n: number): void {
    for (const e of this.#entries.splice(0, n)) this.#chars -= e.event.json.length;
  }
}

interface Entry {
  readonly seq: number;
  readonly event: HubEvent;
  /** Made by the first resume that needs it. */
  template: TextMessageTemplate | null;
}
