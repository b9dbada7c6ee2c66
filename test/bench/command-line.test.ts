import { describe, expect, test } from "bun:test";
import { commandLine } from "../../bench/report/machine.ts";

describe("a report's command line", () => {
  test("is retypable: quotes what the shell would split, and leads with the settings the servers inherit", () => {
    const env = {
      PARLEY_SQLITE_WRITER_THREAD: "true",
      BUN_JSC_useFTLJIT: "0",
      BUN_OPTIONS: "--cpu-prof-md --cpu-prof-dir=/tmp/p",
      BUN_INSTALL: "/root/.bun",
      PARLEY_WS_COALESCE_MS: "5",
      // Set by the bench itself for every server (bench-env.ts), so not what the run was measured with.
      PARLEY_LOG_LEVEL: "debug",
      HOME: "/root",
    };
    expect(commandLine(["seed", "--notifications", "skip followed"], env)).toBe(
      'BUN_JSC_useFTLJIT=0 BUN_OPTIONS="--cpu-prof-md --cpu-prof-dir=/tmp/p" PARLEY_SQLITE_WRITER_THREAD=true PARLEY_WS_COALESCE_MS=5 npm run bench -- seed --notifications "skip followed"',
    );
    expect(commandLine(["--list"], { HOME: "/root" })).toBe("npm run bench -- --list");
  });
});
