import postgres from "postgres";
import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Message, RoomEvent } from "../../../domain/message.ts";
import type { NewMessage } from "../../../ports/store.ts";
import type { Db } from "./client.ts";
import type { CommitBatch, Outcome } from "./group-commit.ts";
import { FUNCTION_MESSAGE_COLUMNS } from "./message-columns.ts";
import { eventOf, newMessageEvent } from "./room-stream.ts";
import { type MessageRow, toMessage } from "./rows.ts";

export type AppendResult = {
  readonly message: Message;
  readonly event: RoomEvent | null;
  readonly created: boolean;
};

/** What `parley_append_batch` (migrations 6 and 7) decided for one entry. */
type BatchOutcome = "created" | "replay" | "no_room" | "no_member" | "conflict_client_msg_id" | "conflict_id";

type BatchRow = Partial<MessageRow> & { readonly n: number; readonly outcome: BatchOutcome };

/** A created entry's result from its row as stored, so it equals what readers and listEvents see. */
export function createdResult(msg: NewMessage, row: MessageRow): AppendResult {
  return { message: toMessage(row), event: eventOf(newMessageEvent(msg, row.seq), row), created: true };
}

/** A replayed entry's result: the stored message, no event. */
export function replayResult(stored: MessageRow): AppendResult {
  return { message: toMessage(stored), event: null, created: false };
}

function replayKey(senderId: string, clientMsgId: string): string {
  return `${senderId}\u0000${clientMsgId}`;
}

/**
 * The batch cut into runs in which no id and no (sender, client-msg-id) occurs twice. The function decides every
 * entry of a run against what is committed, so an entry that must see an earlier one of the same batch (its
 * replay, or its taken id) goes into a later run, which runs after the earlier one committed and so sees it
 * exactly as the single-message path would. Normally a batch is one run.
 */
function runsOf(batch: readonly NewMessage[]): NewMessage[][] {
  const runs: NewMessage[][] = [];
  let run: NewMessage[] = [];
  let ids = new Set<string>();
  let keys = new Set<string>();
  for (const msg of batch) {
    const key = msg.clientMsgId === null ? null : replayKey(msg.senderId, msg.clientMsgId);
    if (ids.has(msg.id) || (key !== null && keys.has(key))) {
      runs.push(run);
      run = [];
      ids = new Set();
      keys = new Set();
    }
    run.push(msg);
    ids.add(msg.id);
    if (key !== null) keys.add(key);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function outcomeOf(msg: NewMessage, row: BatchRow): Outcome<AppendResult> {
  switch (row.outcome) {
    case "no_room":
      return { ok: false, error: new NotFound("room") };
    case "no_member":
      return { ok: false, error: new NotFound("member") };
    case "conflict_client_msg_id":
      return { ok: false, error: new Conflict("clientMsgId") };
    case "conflict_id":
      return { ok: false, error: new Conflict("id") };
    case "replay":
      return { ok: true, value: replayResult(row as MessageRow) };
    case "created":
      return { ok: true, value: createdResult(msg, row as MessageRow) };
  }
}

/**
 * One run as one statement, `parley_append_batch`: the room locks, the checks, the inserts and each room's new
 * last_seq in PostgreSQL, in the statement's implicit transaction. The locks are held only while PostgreSQL runs
 * it and commits, never across a round trip to this process. The message of a created or replayed entry is the
 * row as stored, so the result equals what readers and listEvents see, byte for byte.
 */
async function commitRun(sql: Db, run: readonly NewMessage[]): Promise<Outcome<AppendResult>[]> {
  const rows = await sql<BatchRow[]>`
    SELECT a.n, a.outcome, ${sql.unsafe(FUNCTION_MESSAGE_COLUMNS)}
      FROM parley_append_batch(${run.map((m) => m.id)}::text[], ${run.map((m) => m.roomId)}::text[],
                               ${run.map((m) => m.senderId)}::text[], ${run.map((m) => m.body)}::text[],
                               ${run.map((m) => m.clientMsgId)}::text[], ${run.map((m) => m.createdAt)}::bigint[]) AS a
     ORDER BY a.n`;
  if (rows.length !== run.length)
    throw new Error("parley_append_batch returned a row count unlike its batch");
  return run.map((msg, i) => outcomeOf(msg, rows[i]!));
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
 * Commits a batch of appends with per-entry outcomes equal to those of `appendOne` (the single-message path) run
 * on the entries one after another in call order:
 * - a batch is one statement, `parley_append_batch` (migrations 6 and 7), unless an id or a (sender,
 *   client-msg-id) occurs in it twice: then it is cut before each repeat into runs committed one after another,
 *   so the repeat sees the earlier entry committed (its replay, or its taken id), as it would alone;
 * - seqs are assigned per room in call order, gap-free; each room's last_seq is written once per run;
 * - a missing room, a sender who is not a member (an unknown one included), a replay, a client-msg-id stored in
 *   another room and a taken id are decided by reads made under the room locks, and fail (or replay) that entry
 *   only;
 * - whatever those reads cannot see (another process inserting the same id or client-msg-id into a room this
 *   run does not lock, a user deleted meanwhile, a body PostgreSQL rejects) makes PostgreSQL roll the run back;
 *   its entries are then run through `appendOne` instead (a fallback), which maps each such error exactly;
 * - an error that is not PostgreSQL's (connection lost, pool ended) fails the entries of the run it hit and of
 *   every later run: whether that run committed is unknown, so none is retried (a client retrying with its
 *   client-msg-id is idempotent). Earlier runs keep their outcomes: they committed.
 * Order: a batch starts only once every earlier batch of this instance that shares a room with it has settled
 * (fallbacks included), so appends to one room called in that order on one store instance get seqs in that order
 * even though batches run on different connections. Batches over disjoint rooms run at once.
 * A batch of a single entry is run through `appendOne` directly (not counted as a fallback).
 */
export class BatchAppender {
  readonly #sql: Db;
  readonly #appendOne: (msg: NewMessage) => Promise<AppendResult>;
  /** Per room, the settling of the latest batch that holds it; deleted once no later batch took it over. */
  readonly #roomTails = new Map<string, Promise<void>>();
  #fallbacks = 0;
  #singles = 0;

  constructor(sql: Db, appendOne: (msg: NewMessage) => Promise<AppendResult>) {
    this.#sql = sql;
    this.#appendOne = appendOne;
  }

  /** How many runs PostgreSQL rejected and were run one entry at a time instead. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** How many batches held a single entry and ran it through the single-message path. */
  get singles(): number {
    return this.#singles;
  }

  readonly commit: CommitBatch<NewMessage, AppendResult> = async (batch) => {
    const rooms = new Set(batch.map((m) => m.roomId));
    const earlier: Promise<void>[] = [];
    for (const room of rooms) {
      const tail = this.#roomTails.get(room);
      if (tail !== undefined) earlier.push(tail);
    }
    let settled!: () => void;
    const mine = new Promise<void>((resolve) => {
      settled = resolve;
    });
    for (const room of rooms) this.#roomTails.set(room, mine);
    try {
      if (earlier.length > 0) await Promise.all(earlier);
      if (batch.length === 1) {
        // A batch of one (light load) takes the single-message function: the same outcome from simpler
        // statements, about a fifth less of PostgreSQL's time than the batch function with one entry.
        this.#singles++;
        return await oneByOne(batch, this.#appendOne);
      }
      return await this.#commitRuns(runsOf(batch));
    } finally {
      settled();
      for (const room of rooms) if (this.#roomTails.get(room) === mine) this.#roomTails.delete(room);
    }
  };

  async #commitRuns(runs: readonly NewMessage[][]): Promise<Outcome<AppendResult>[]> {
    const outcomes: Outcome<AppendResult>[] = [];
    for (const [i, run] of runs.entries()) {
      try {
        outcomes.push(...(await commitRun(this.#sql, run)));
      } catch (error) {
        if (error instanceof postgres.PostgresError) {
          this.#fallbacks++;
          outcomes.push(...(await oneByOne(run, this.#appendOne)));
          continue;
        }
        for (const _ of runs.slice(i).flat()) outcomes.push({ ok: false, error });
        break;
      }
    }
    return outcomes;
  }
}
