/** SQLSTATE classes this adapter turns into storage-neutral outcomes. */
const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";
/** no_data_found: raised by this schema's functions for a row they were asked to act on and did not find. */
const NO_DATA_FOUND = "P0002";

interface PgErrorFields {
  readonly code?: unknown;
  readonly constraint_name?: unknown;
  readonly table_name?: unknown;
}

function fields(error: unknown): PgErrorFields | null {
  return typeof error === "object" && error !== null ? (error as PgErrorFields) : null;
}

/** The violated constraint's name when `error` is a unique violation, else null. */
export function uniqueViolation(error: unknown): string | null {
  const f = fields(error);
  if (f?.code !== UNIQUE_VIOLATION) return null;
  return typeof f.constraint_name === "string" ? f.constraint_name : "";
}

/** The violated constraint's name when `error` is a foreign-key violation, else null. */
export function foreignKeyViolation(error: unknown): string | null {
  const f = fields(error);
  if (f?.code !== FOREIGN_KEY_VIOLATION) return null;
  return typeof f.constraint_name === "string" ? f.constraint_name : "";
}

/**
 * The table a function of this schema found no row in (P0002, raised with its TABLE field set, as
 * parley_append_message does), else null.
 */
export function notFoundIn(error: unknown): string | null {
  const f = fields(error);
  if (f?.code !== NO_DATA_FOUND) return null;
  return typeof f.table_name === "string" ? f.table_name : "";
}

/**
 * Thrown inside a transaction callback to roll the transaction back on purpose (undoing e.g. a seq increment)
 * while handing a result to the caller; `rollbackWith` unwraps it.
 */
export class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super("rollback");
    this.name = "Rollback";
  }
}

/** Runs `run` (a transaction) and returns the value of a deliberate Rollback instead of rethrowing it. */
export async function rollbackWith<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Rollback) return error.value as T;
    throw error;
  }
}
