import type { HubEvent } from "./hub-event.ts";
import type { TextMessageTemplate } from "./text-frames.ts";

/**
 * Most events a hub keeps for resumes. A resume after a network blip or a reconnect storm misses a few seconds
 * of its room: 64 events are 64 s of a room at 1 msg/s, 6 s at 10 msg/s (seed's rooms of 50); a longer gap is
 * read from the store as before. The bound is set by memory, since every room with traffic keeps its run: a
 * message event's JSON is about 330 characters, so a full run of ordinary messages holds some 21 KB of JSON plus
 * ~100 bytes of object per event (1,000 busy rooms: ~22 MB), about twice that where resumes have been served
 * from it (their templates are kept). A hub only holds what it has published since it was created, and its
 * slots grow with that (8, 16, … 64 pointers), so quiet rooms cost a few slots each.
 */
export const RECENT_MAX_EVENTS = 64;
/**
 * Most characters of JSON the ring holds, whatever the count: with long messages (4,000 characters each) the
 * ring keeps fewer of them rather than a quarter of a megabyte per hub. 32 Ki characters are 32–64 KiB.
 */
export const RECENT_MAX_CHARS = 32 * 1024;
const FIRST_SLOTS = 8;

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
  /** Slot `seq & (length - 1)`; the length is a power of two. */
  #events: Array<HubEvent | undefined> = [];
  /** Parallel to #events; allocated by the first resume served. */
  #templates: Array<TextMessageTemplate | undefined> | null = null;
  /** The newest seq held (meaningless while #size is 0). */
  #last = 0;
  #size = 0;
  #chars = 0;

  /** How many events are held. */
  get size(): number {
    return this.#size;
  }

  /** The seqs held, oldest first (for tests and diagnostics). */
  seqs(): number[] {
    return Array.from({ length: this.#size }, (_, i) => this.#last - this.#size + 1 + i);
  }

  /**
   * Adds the event just published after the newest one. An ephemeral event is ignored; a seq that does not follow
   * the newest one starts a new run.
   */
  push(event: HubEvent): void {
    const seq = event.seq;
    if (seq === null) return;
    if (this.#size > 0 && seq !== this.#last + 1) this.clear();
    if (this.#size === this.#events.length) {
      if (this.#events.length < RECENT_MAX_EVENTS) this.#grow();
      else this.#dropOldest();
    }
    const i = seq & (this.#events.length - 1);
    this.#events[i] = event;
    if (this.#templates !== null) this.#templates[i] = undefined;
    this.#last = seq;
    this.#size++;
    this.#chars += event.json.length;
    while (this.#chars > RECENT_MAX_CHARS && this.#size > 0) this.#dropOldest();
    if (event.type === "message.edited" || event.type === "message.deleted") this.#forget(event.messageSeq);
  }

  /**
   * The events with seq in (cursor, head], oldest first, if the run ends at `head` and holds all of them; else
   * null. Empty when cursor ≥ head.
   */
  after(cursor: number, head: number): readonly HubEvent[] | null {
    const from = this.#from(cursor, head);
    if (from === null) return null;
    const out: HubEvent[] = [];
    for (let seq = from; seq <= head; seq++) out.push(this.#at(seq));
    return out;
  }

  /** As `after`, the events' frame templates, each made by `make` on first use and kept with its event. */
  templatesAfter(
    cursor: number,
    head: number,
    make: (event: HubEvent) => TextMessageTemplate,
  ): readonly TextMessageTemplate[] | null {
    const from = this.#from(cursor, head);
    if (from === null) return null;
    const out: TextMessageTemplate[] = [];
    const mask = this.#events.length - 1;
    this.#templates ??= new Array<TextMessageTemplate | undefined>(this.#events.length).fill(undefined);
    for (let seq = from; seq <= head; seq++) {
      const i = seq & mask;
      let t = this.#templates[i];
      if (t === undefined) {
        t = make(this.#at(seq));
        this.#templates[i] = t;
      }
      out.push(t);
    }
    return out;
  }

  /** Drops everything, including the slots. */
  clear(): void {
    this.#events = [];
    this.#templates = null;
    this.#size = 0;
    this.#chars = 0;
  }

  /** The first seq to return for (cursor, head], or null when the run does not cover it. */
  #from(cursor: number, head: number): number | null {
    if (cursor >= head) return head + 1;
    if (this.#size === 0 || this.#last !== head || cursor < this.#last - this.#size) return null;
    return cursor + 1;
  }

  #at(seq: number): HubEvent {
    const e = this.#events[seq & (this.#events.length - 1)];
    if (e === undefined) throw new Error(`recent event ${seq} missing`);
    return e;
  }

  /** Drops the newest entry before the last that shows message `messageSeq`, and everything before it. */
  #forget(messageSeq: number | null): void {
    if (messageSeq === null) {
      this.clear();
      return;
    }
    const first = this.#last - this.#size + 1;
    for (let seq = this.#last - 1; seq >= first && seq >= messageSeq; seq--) {
      const e = this.#at(seq);
      if (seq === messageSeq || e.messageSeq === messageSeq) {
        while (this.#size > 0 && this.#last - this.#size + 1 <= seq) this.#dropOldest();
        return;
      }
    }
  }

  #dropOldest(): void {
    const i = (this.#last - this.#size + 1) & (this.#events.length - 1);
    this.#chars -= this.#events[i]?.json.length ?? 0;
    this.#events[i] = undefined;
    if (this.#templates !== null) this.#templates[i] = undefined;
    this.#size--;
  }

  #grow(): void {
    const length = this.#events.length === 0 ? FIRST_SLOTS : this.#events.length * 2;
    const events = new Array<HubEvent | undefined>(length).fill(undefined);
    const oldTemplates = this.#templates;
    const templates =
      oldTemplates === null ? null : new Array<TextMessageTemplate | undefined>(length).fill(undefined);
    const oldMask = this.#events.length - 1;
    for (let seq = this.#last - this.#size + 1; seq <= this.#last; seq++) {
      events[seq & (length - 1)] = this.#events[seq & oldMask];
      if (templates !== null && oldTemplates !== null)
        templates[seq & (length - 1)] = oldTemplates[seq & oldMask];
    }
    this.#events = events;
    this.#templates = templates;
  }
}
