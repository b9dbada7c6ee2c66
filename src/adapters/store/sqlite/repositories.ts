import type { Store } from "../../../ports/store.ts";
import type { SqliteConnection } from "./connection.ts";
import { SqliteMessageRepository } from "./messages.ts";
import { SqliteRoomRepository } from "./rooms.ts";
import { SqliteSessionRepository } from "./sessions.ts";
import { SqliteUserRepository } from "./users.ts";

/** The store's repositories, the part of the port that reads and writes rows. */
export type Repositories = Pick<Store, "users" | "sessions" | "rooms" | "messages">;
export type RepositoryName = keyof Repositories;

/** The repositories over one connection; they hold no state of their own, so any number may share a file. */
export function sqliteRepositories(conn: SqliteConnection): Repositories {
  return {
    users: new SqliteUserRepository(conn),
    sessions: new SqliteSessionRepository(conn),
    rooms: new SqliteRoomRepository(conn),
    messages: new SqliteMessageRepository(conn),
  };
}
