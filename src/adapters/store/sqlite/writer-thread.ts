/**
 * The SQLite writer thread: one connection that makes every write of its process, off the serving thread.
 * bun:sqlite is synchronous, so a commit — the WAL writes, the fsync, now and then a checkpoint — would otherwise
 * hold the event loop that serves every socket; here it holds only this thread, and the serving thread keeps
 * reading (WAL readers do not wait for the writer).
 *
 * Calls run in the order they arrive, with exactly the repositories and group commit of the inline store: a
 * batch of calls arriving together joins one grouped transaction. Each answer is posted after its commit.
 */
import { applyMigrations } from "./migrations.ts";
import { SqliteConnection } from "./connection.ts";
import { openDatabase } from "./open-database.ts";
import { type Repositories, sqliteRepositories } from "./repositories.ts";
import {
  flattenError,
  type FromWriter,
  type ToWriter,
  type WriteCall,
  type WriteResult,
} from "./writer-protocol.ts";

declare const self: Worker;

let conn: SqliteConnection | null = null;
let repositories: Repositories | null = null;
let outbox: WriteResult[] = [];
let flushScheduled = false;

function post(message: FromWriter): void {
  self.postMessage(message);
}

/** Answers go out together once per turn: a grouped commit settles all its calls in one turn. */
function answer(result: WriteResult): void {
  outbox.push(result);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  if (outbox.length === 0) return;
  const results = outbox;
  outbox = [];
  post({ type: "results", results });
}

function invoke(call: WriteCall): Promise<unknown> {
  if (conn === null || repositories === null)
    return Promise.reject(new Error("the writer has no connection"));
  if (call.target === "store") {
    if (call.method !== "migrate") return Promise.reject(new Error(`unknown store call ${call.method}`));
    applyMigrations(conn);
    return Promise.resolve();
  }
  const repository = repositories[call.target] as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  const method = repository[call.method];
  if (method === undefined) return Promise.reject(new Error(`unknown call ${call.target}.${call.method}`));
  return method.apply(repository, [...call.args]);
}

function run(calls: readonly WriteCall[]): void {
  // Started in arrival order in one turn: grouped writes join one transaction in that order.
  for (const call of calls) {
    let pending: Promise<unknown>;
    try {
      pending = invoke(call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => answer({ id: call.id, ok: true, value }),
      (error: unknown) => answer({ id: call.id, ok: false, error: flattenError(error) }),
    );
  }
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const message = event.data;
  switch (message.type) {
    case "open":
      try {
        conn = new SqliteConnection(openDatabase(message.path, message.busyTimeoutMs));
        repositories = sqliteRepositories(conn);
      } catch (error) {
        post({ type: "failed", error: flattenError(error) });
      }
      return;
    case "calls":
      run(message.calls);
      return;
    case "close": {
      // Commits what is queued; the answers settle in this turn's microtasks, so they leave before "closed".
      let error: unknown = null;
      try {
        conn?.close();
      } catch (e) {
        error = e;
      }
      conn = null;
      repositories = null;
      setImmediate(() => {
        flush();
        post(error === null ? { type: "closed" } : { type: "closed", error: flattenError(error) });
      });
      return;
    }
  }
};
