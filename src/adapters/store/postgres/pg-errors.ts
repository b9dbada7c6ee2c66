/** SQLSTATE classes this adapter turns into storage-neutral outcomes. */
const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";

interface PgErrorFields {
  readonly code?: unknown;
  readonly constraint_name?: unknown;
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
