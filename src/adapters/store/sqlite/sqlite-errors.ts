import { SQLiteError } from "bun:sqlite";

type ConstraintCode =
  | "SQLITE_CONSTRAINT_UNIQUE"
  | "SQLITE_CONSTRAINT_PRIMARYKEY"
  | "SQLITE_CONSTRAINT_FOREIGNKEY";

/** Whether `e` is SQLite's report of the given constraint violation. */
export function isConstraintError(e: unknown, code: ConstraintCode): e is SQLiteError {
  return e instanceof SQLiteError && e.code === code;
}

/** Whether `e` is a UNIQUE violation on exactly `table.column` (SQLite names it in the message). */
export function isUniqueViolationOn(e: unknown, tableColumn: string): boolean {
  return isConstraintError(e, "SQLITE_CONSTRAINT_UNIQUE") && e.message.includes(tableColumn);
}
