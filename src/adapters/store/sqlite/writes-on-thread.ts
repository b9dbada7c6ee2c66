import type { Repositories, RepositoryName } from "./repositories.ts";
import type { SqliteWriter } from "./sqlite-writer.ts";
import { METHOD_KINDS } from "./writer-protocol.ts";

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * The repositories a caller sees when writes have a thread of their own: each "write" method (METHOD_KINDS) is
 * sent to `writer`, each "read" runs on `local`, the caller's own (read-only) connection. A write resolves after
 * its commit, and WAL readers see every commit made before their statement starts, so a read made after a
 * write resolved sees it.
 */
export function writesOnThread(local: Repositories, writer: SqliteWriter): Repositories {
  const split = (name: RepositoryName): unknown => {
    const own = local[name] as unknown as Record<string, Method>;
    const methods: Record<string, Method> = {};
    for (const [method, kind] of Object.entries(METHOD_KINDS[name])) {
      const onOwn = own[method];
      if (onOwn === undefined) throw new Error(`${name}.${method} is not a method`);
      methods[method] = kind === "write" ? (...args) => writer.call(name, method, args) : onOwn.bind(own);
    }
    return methods;
  };
  return {
    users: split("users") as Repositories["users"],
    sessions: split("sessions") as Repositories["sessions"],
    rooms: split("rooms") as Repositories["rooms"],
    messages: split("messages") as Repositories["messages"],
  };
}
