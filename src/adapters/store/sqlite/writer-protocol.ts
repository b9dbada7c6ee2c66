/**
 * What the serving thread and the SQLite writer thread (writer-thread.ts) say to each other, and which store
 * methods write. Everything here crosses a thread by structured clone, so it is plain data: calls carry the
 * method's arguments as given, results the value as returned, and errors are flattened and rebuilt so that
 * callers still catch the storage-neutral `NotFound` and `Conflict`.
 */
import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Repositories, RepositoryName } from "./repositories.ts";

/**
 * Every repository method, by what it does to the file. "write" methods run on the writer thread's connection;
 * "read" methods on the caller's own, which cannot write (query_only), so a write method listed here as a read
 * fails loudly rather than taking the write lock on the serving thread. `satisfies` makes a method added to the
 * port a type error until it is classified here.
 */
export const METHOD_KINDS = {
  users: {
    create: "write",
    update: "write",
    findById: "read",
    findByLogin: "read",
    list: "read",
    countByRole: "read",
  },
  sessions: {
    create: "write",
    rotate: "write",
    revoke: "write",
    revokeAll: "write",
    findById: "read",
    listLive: "read",
  },
  rooms: {
    create: "write",
    update: "write",
    addMember: "write",
    removeMember: "write",
    transferOwnership: "write",
    markRead: "write",
    findById: "read",
    findDm: "read",
    listForUser: "read",
    roomIdsOf: "read",
    readStatesOf: "read",
    getMember: "read",
    findMembership: "read",
    listMembers: "read",
  },
  messages: {
    append: "write",
    edit: "write",
    softDelete: "write",
    findById: "read",
    page: "read",
    listEvents: "read",
    search: "read",
  },
} as const satisfies {
  readonly [R in RepositoryName]: Readonly<Record<keyof Repositories[R], "read" | "write">>;
};

/** A write for the writer thread: a repository method, or "migrate" (target "store"). */
export interface WriteCall {
  readonly id: number;
  readonly target: RepositoryName | "store";
  readonly method: string;
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread: enough to rebuild the domain errors and to read any other one. */
export interface FlatError {
  readonly name: string;
  readonly message: string;
  /** NotFound's entity or Conflict's key. */
  readonly subject?: string;
  /** SQLite's error code (e.g. SQLITE_BUSY), when the error is SQLite's. */
  readonly code?: string;
}

export type WriteResult =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: FlatError };

export type ToWriter =
  | { readonly type: "open"; readonly path: string; readonly busyTimeoutMs: number }
  | { readonly type: "calls"; readonly calls: readonly WriteCall[] }
  /** Commit what is queued, answer it, then say "closed". */
  | { readonly type: "close" };

export type FromWriter =
  | { readonly type: "results"; readonly results: readonly WriteResult[] }
  /** The thread could not open its connection; every call fails with this. */
  | { readonly type: "failed"; readonly error: FlatError }
  /** Every answer has been posted; `error` when the connection did not close cleanly. */
  | { readonly type: "closed"; readonly error?: FlatError };

export function flattenError(error: unknown): FlatError {
  if (error instanceof NotFound) return { name: error.name, message: error.message, subject: error.entity };
  if (error instanceof Conflict) return { name: error.name, message: error.message, subject: error.key };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string"
      ? { name: error.name, message: error.message, code }
      : { name: error.name, message: error.message };
  }
  return { name: "Error", message: String(error) };
}

export function rebuildError(flat: FlatError): Error {
  if (flat.name === "NotFound" && flat.subject !== undefined) return new NotFound(flat.subject);
  if (flat.name === "Conflict" && flat.subject !== undefined) return new Conflict(flat.subject);
  const error = new Error(flat.message);
  error.name = flat.name;
  if (flat.code !== undefined) Object.assign(error, { code: flat.code });
  return error;
}
