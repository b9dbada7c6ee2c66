/**
 * The later passes of `npm test`: the whole integration suite again on another store set-up.
 * - `postgres`: PostgreSQL as the store. Skipped with a one-line reason when PostgreSQL is unreachable — except
 *   under CI=true, where that is a failure.
 * - `sqlite-writer-thread`: SQLite with its writes on the writer thread (PARLEY_SQLITE_WRITER_THREAD).
 */
import { join } from "node:path";
import { postgresAvailable } from "./services.ts";

const PASSES = {
  postgres: { env: { PARLEY_TEST_STORE: "postgres" }, needsPostgres: true },
  "sqlite-writer-thread": { env: { PARLEY_TEST_SQLITE_WRITER_THREAD: "true" }, needsPostgres: false },
} as const;

const name = process.argv[2] ?? "";
if (!Object.hasOwn(PASSES, name)) {
  console.error(`usage: run-integration-pass.ts ${Object.keys(PASSES).join("|")}`);
  process.exit(2);
}
const pass = PASSES[name as keyof typeof PASSES];
const root = join(import.meta.dir, "..", "..");
if (pass.needsPostgres) {
  let available: boolean;
  try {
    available = await postgresAvailable();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  if (!available) process.exit(0);
}
console.log(
  `integration suite, pass ${name} (${Object.entries(pass.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")})`,
);
const proc = Bun.spawn([process.execPath, "test", join(root, "test/integration")], {
  cwd: root,
  env: { ...process.env, ...pass.env },
  stdout: "inherit",
  stderr: "inherit",
});
process.exit(await proc.exited);
