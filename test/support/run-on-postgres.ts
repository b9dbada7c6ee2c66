/**
 * The second pass of `npm test`: the whole integration suite again with PostgreSQL as the store. Skipped with a
 * one-line reason when PostgreSQL is unreachable — except under CI=true, where that is a failure.
 */
import { join } from "node:path";
import { postgresAvailable } from "./services.ts";

const root = join(import.meta.dir, "..", "..");
let available: boolean;
try {
  available = await postgresAvailable();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
if (!available) process.exit(0);
console.log("integration suite on PostgreSQL (PARLEY_TEST_STORE=postgres)");
const proc = Bun.spawn([process.execPath, "test", join(root, "test/integration")], {
  cwd: root,
  env: { ...process.env, PARLEY_TEST_STORE: "postgres" },
  stdout: "inherit",
  stderr: "inherit",
});
process.exit(await proc.exited);
