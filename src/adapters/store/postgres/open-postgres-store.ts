import type { CommitObserver } from "../../../ports/commit-timing.ts";
import type { Store } from "../../../ports/store.ts";
import { createClient } from "./client.ts";
import { APPEND_GROUP_COMMIT, postgresMessages } from "./messages.ts";
import { migrate } from "./migrations.ts";
import { postgresRooms } from "./rooms.ts";
import { postgresSessions } from "./sessions.ts";
import { postgresUsers } from "./users.ts";

export interface PostgresStoreOptions {
  /** A postgres:// connection URL. */
  readonly url: string;
  /** Every connection uses this schema as its search_path; migrate() creates it if missing. */
  readonly schema?: string;
  /** Pool size of this process (default 10). */
  readonly maxConnections?: number;
  /** Hears every group commit of appends, with its timing (ports/commit-timing.ts). */
  readonly onCommit?: CommitObserver;
}

/**
 * The Store on PostgreSQL. Connections open lazily, so this never fails; the first query (or ping) reports an
 * unreachable server. Correctness across processes rests on row locks and constraints in the database, never
 * on state in this process.
 */
export function openPostgresStore(opts: PostgresStoreOptions): Store {
  const sql = createClient(opts);
  const messages = postgresMessages(
    sql,
    opts.onCommit === undefined ? APPEND_GROUP_COMMIT : { ...APPEND_GROUP_COMMIT, onCommit: opts.onCommit },
  );
  return {
    dialect: "postgres",
    users: postgresUsers(sql),
    sessions: postgresSessions(sql),
    rooms: postgresRooms(sql),
    messages,
    migrate: () => migrate(sql, opts.schema),
    async ping() {
      await sql`SELECT 1`;
    },
    // Appends already queued for a group commit are committed first (not cut off with the pool); then open
    // queries get up to 5 s.
    async close() {
      await messages.drain();
      await sql.end({ timeout: 5 });
    },
  };
}
