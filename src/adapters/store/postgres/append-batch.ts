import postgres from "postgres";
import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Message, RoomEvent } from "../../../domain/message.ts";
import type { NewMessage } from "../../../ports/store.ts";
import type { Db, Tx } from "./client.ts";
import type { CommitBatch, Outcome } from "./group-commit.ts";
import { MESSAGE_COLUMNS } from "./message-columns.ts";
import { eventOf, newMessageEvent } from "./room-stream.ts";
import { type MessageRow, toMessage } from "./rows.ts";

export type AppendResult = {
  readonly message: Message;
  readonly event: RoomEvent | null;
  readonly created: boolean;
};

/** What the pre-checks decided for one entry, before anything is written. */
type Plan =
  | { readonly kind: "insert"; readonly seq: number }
  | { readonly kind: "replay"; readonly stored: MessageRow }
  | { readonly kind: "replayInBatch"; readonly of: number }
  | { readonly kind: "fail"; readonly error: Error };

function replayKey(senderId: string, clientMsgId: string): string {
  return `${senderId}\u0000${clientMsgId}`;
}

/**
 * Decides every entry's outcome from what the locked transaction read, in call order, with the checks in the
 * order the single-message path meets them: missing room, then a sender who is not a member (which covers an
 * unknown sender: members reference users), then replay (or Conflict for another room), then a taken id. An
 * entry sees the entries accepted before it in the same batch exactly as it would see them committed: their ids
 * are taken, their client-msg-ids replay.
 */
function plan(
  batch: readonly NewMessage[],
  lastSeqs: Map<string, number>,
  outsiders: ReadonlySet<number>,
  stored: Map<string, MessageRow>,
  takenIds: Set<string>,
): Plan[] {
  const acceptedKeys = new Map<string, number>();
  return batch.map((msg, i): Plan => {
    const lastSeq = lastSeqs.get(msg.roomId);
    if (lastSeq === undefined) return { kind: "fail", error: new NotFound("room") };
    if (outsiders.has(i)) return { kind: "fail", error: new NotFound("member") };
    if (msg.clientMsgId !== null) {
      const key = replayKey(msg.senderId, msg.clientMsgId);
      const earlier = acceptedKeys.get(key);
      const storedRow = stored.get(key);
      const roomOfEarlier = earlier !== undefined ? batch[earlier]!.roomId : storedRow?.room_id;
      if (roomOfEarlier !== undefined && roomOfEarlier !== msg.roomId)
        return { kind: "fail", error: new Conflict("clientMsgId") };
      if (earlier !== undefined) return { kind: "replayInBatch", of: earlier };
      if (storedRow !== undefined) return { kind: "replay", stored: storedRow };
    }
    if (takenIds.has(msg.id)) return { kind: "fail", error: new Conflict("id") };
    takenIds.add(msg.id);
    if (msg.clientMsgId !== null) acceptedKeys.set(replayKey(msg.senderId, msg.clientMsgId), i);
    const seq = lastSeq + 1;
    lastSeqs.set(msg.roomId, seq);
    return { kind: "insert", seq };
  });
}

/**
 * The batch's transaction. Four round trips whatever its size: BEGIN; the room locks with the pre-checks
 * pipelined behind them; the writes, pipelined; COMMIT.
 *
 * Room rows are locked in id order (`ORDER BY id` sits below the lock in the plan), so batches of any number
 * of processes, and single-room writers (edit, softDelete, membership events), never wait on each other in a
 * cycle. The lock is FOR NO KEY UPDATE, the one the single-message path's `UPDATE rooms` takes: it serialises
 * the room's stream without blocking foreign-key checks of rows that merely reference the room.
 *
 * The pre-checks are separate statements after the lock statement, so under READ COMMITTED each takes its
 * snapshot after the locks were granted and sees every append committed to these rooms before — the reasoning
 * of the single-message path, unchanged.
 */
async function commitInTransaction(
  tx: Tx,
  batch: readonly NewMessage[],
  previousLocked: Promise<void>,
  locked: () => void,
): Promise<Outcome<AppendResult>[]> {
  await previousLocked;
  const roomIds = [...new Set(batch.map((m) => m.roomId))];
  const keyed = batch.filter((m) => m.clientMsgId !== null);
  const [, rooms, outsiders, storedRows, taken] = await Promise.all([
    // Planned for the arrays at hand each time: a generic plan made while a table was small (postgres.js
    // keeps statements prepared per connection) would go on scanning it whole once it is large.
    tx`SET LOCAL plan_cache_mode = force_custom_plan`,
    tx<{ id: string; last_seq: number }[]>`
      SELECT id, last_seq FROM rooms WHERE id = ANY(${roomIds}::text[]) ORDER BY id FOR NO KEY UPDATE`,
    // The positions of the entries whose sender is not a member: normally none, so nothing to send back.
    tx<{ i: number }[]>`
      SELECT (v.n - 1)::int AS i
        FROM unnest(${batch.map((m) => m.roomId)}::text[], ${batch.map((m) => m.senderId)}::text[])
             WITH ORDINALITY AS v(room_id, user_id, n)
       WHERE NOT EXISTS (SELECT 1 FROM members mb WHERE mb.room_id = v.room_id AND mb.user_id = v.user_id)`,
    keyed.length === 0
      ? []
      : tx<MessageRow[]>`
          SELECT ${tx.unsafe(MESSAGE_COLUMNS)} FROM messages
           WHERE (sender_id, client_msg_id) IN (
                   SELECT * FROM unnest(${keyed.map((m) => m.senderId)}::text[],
                                        ${keyed.map((m) => m.clientMsgId)}::text[]))`,
    tx<{ id: string }[]>`SELECT id FROM messages WHERE id = ANY(${batch.map((m) => m.id)}::text[])`,
  ]);
  locked();
  const plans = plan(
    batch,
    new Map(rooms.map((r) => [r.id, r.last_seq])),
    new Set(outsiders.map((r) => r.i)),
    new Map(storedRows.map((r) => [replayKey(r.sender_id, r.client_msg_id ?? ""), r])),
    new Set(taken.map((r) => r.id)),
  );

  const inserts = batch.flatMap((msg, i) => {
    const p = plans[i]!;
    return p.kind === "insert" ? [{ msg, seq: p.seq }] : [];
  });
  const inserted = new Map<string, MessageRow>();
  if (inserts.length > 0) {
    const ids = inserts.map((x) => x.msg.id);
    const rids = inserts.map((x) => x.msg.roomId);
    const seqs = inserts.map((x) => x.seq);
    const senders = inserts.map((x) => x.msg.senderId);
    const ats = inserts.map((x) => x.msg.createdAt);
    // Each room's highest new seq: plan() assigned them in call order, so the last one per room is it.
    const lastSeqOf = new Map(inserts.map((x) => [x.msg.roomId, x.seq]));
    // No event rows: a message row is the record of its 'message' event (selectEvents in room-stream.ts).
    const [, , rows] = await Promise.all([
      tx`
        UPDATE rooms AS r SET last_seq = v.last_seq
          FROM unnest(${[...lastSeqOf.keys()]}::text[], ${[...lastSeqOf.values()]}::bigint[])
               AS v(id, last_seq)
         WHERE r.id = v.id`,
      // Back to the configured plan cache mode before the inserts: their foreign-key triggers run one cached
      // query per row, which must not be re-planned every time.
      tx`SET LOCAL plan_cache_mode TO DEFAULT`,
      tx<MessageRow[]>`
        INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, created_at)
        SELECT * FROM unnest(${ids}::text[], ${rids}::text[], ${seqs}::bigint[], ${senders}::text[],
                             ${inserts.map((x) => x.msg.body)}::text[],
                             ${inserts.map((x) => x.msg.clientMsgId)}::text[], ${ats}::bigint[])
        RETURNING ${tx.unsafe(MESSAGE_COLUMNS)}`,
    ]);
    for (const row of rows) inserted.set(row.id, row);
  }

  // The message as stored (RETURNING), so the result equals what readers and listEvents see, byte for byte.
  const rowOf = (i: number): MessageRow => {
    const row = inserted.get(batch[i]!.id);
    if (row === undefined) throw new Error("inserted message missing from RETURNING");
    return row;
  };
  return plans.map((p, i): Outcome<AppendResult> => {
    if (p.kind === "fail") return { ok: false, error: p.error };
    if (p.kind === "replay")
      return { ok: true, value: { message: toMessage(p.stored), event: null, created: false } };
    if (p.kind === "replayInBatch")
      return { ok: true, value: { message: toMessage(rowOf(p.of)), event: null, created: false } };
    const msg = batch[i]!;
    const row = rowOf(i);
    const event = eventOf(newMessageEvent(msg, p.seq), row);
    return { ok: true, value: { message: toMessage(row), event, created: true } };
  });
}

/** Runs each entry through the single-message path, one after another, in call order. */
async function oneByOne(
  batch: readonly NewMessage[],
  appendOne: (msg: NewMessage) => Promise<AppendResult>,
): Promise<Outcome<AppendResult>[]> {
  const outcomes: Outcome<AppendResult>[] = [];
  for (const msg of batch) {
    try {
      outcomes.push({ ok: true, value: await appendOne(msg) });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}

/**
 * Commits a batch of appends in ONE transaction, with per-entry outcomes equal to those of `appendOne` (the
 * single-message path) run on the entries one after another in call order:
 * - seqs are assigned per room in call order, gap-free; each room's last_seq is written once;
 * - a missing room, a sender who is not a member (an unknown one included), a replay (also of an entry earlier
 *   in the same batch), a client-msg-id stored in another room and a taken id are decided from reads made under
 *   the room locks, and fail (or replay) that entry only;
 * - whatever the pre-checks cannot see — another process inserting the same id or client-msg-id into a room
 *   this batch does not lock, a user deleted meanwhile, a body PostgreSQL rejects — makes PostgreSQL roll the
 *   batch back; every entry is then run through `appendOne` instead (a fallback), which maps each such error
 *   exactly;
 * - an error that is not PostgreSQL's (connection lost, pool ended) rejects the batch as a whole: whether it
 *   committed is unknown, so no entry is retried (a client retrying with its client-msg-id is idempotent).
 * Batches of one instance take their room locks in the order they were started (each waits until the previous
 * one holds its locks, or has committed if it was a batch of one), so two appends to one room, called in that
 * order on one store instance, get seqs in that order even when their batches run on different connections —
 * except after a fallback, whose entries are retried after later batches may have committed.
 * A batch of a single entry is run through `appendOne` directly (not counted as a fallback).
 */
export class BatchAppender {
  readonly #sql: Db;
  readonly #appendOne: (msg: NewMessage) => Promise<AppendResult>;
  #lastLocked: Promise<void> = Promise.resolve();
  #fallbacks = 0;
  #singles = 0;

  constructor(sql: Db, appendOne: (msg: NewMessage) => Promise<AppendResult>) {
    this.#sql = sql;
    this.#appendOne = appendOne;
  }

  /** How many batches PostgreSQL rejected and were run one entry at a time instead. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** How many batches held a single entry and ran it through the single-message path. */
  get singles(): number {
    return this.#singles;
  }

  readonly commit: CommitBatch<NewMessage, AppendResult> = async (batch) => {
    const previousLocked = this.#lastLocked;
    let locked!: () => void;
    this.#lastLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    try {
      if (batch.length === 1) {
        // A batch of one (light load) takes the single-message transaction: the same outcome with fewer
        // statements — 360–410 µs of client CPU per append against 540–730 µs through the batch transaction,
        // one in flight (docs/benchmarks/optimizations.md). Its room lock is not visible from here, so the next
        // batch waits for its commit rather than for its lock; under load batches grow and take the path below.
        await previousLocked;
        this.#singles++;
        return await oneByOne(batch, this.#appendOne);
      }
      return await this.#sql.begin((tx) => commitInTransaction(tx, batch, previousLocked, locked));
    } catch (error) {
      locked();
      if (!(error instanceof postgres.PostgresError)) throw error;
      this.#fallbacks++;
      return oneByOne(batch, this.#appendOne);
    } finally {
      locked();
    }
  };
}
