/**
 * Starting the bench's servers: each is given ports no other server of the run has, and a server that refuses to
 * start says why in full, whichever of its output streams ends first.
 */
import { expect, test } from "bun:test";
import { spawnChild } from "../../bench/runner/child.ts";
import { freePort, freePorts } from "../../bench/targets/free-port.ts";

test("freePorts gives distinct ports, and never one already taken", async () => {
  const three = await freePorts(3);
  expect(new Set(three).size).toBe(3);
  // A port just released is often handed out again (about one pair in 80): 400 pairs would all but surely show it.
  for (let i = 0; i < 400; i++) {
    const a = await freePort();
    const b = await freePort(new Set([a]));
    expect(b).not.toBe(a);
  }
});

test("a child that exits before listening is reported with all of its stderr", async () => {
  // Closes its stdout first, then writes its cause over two writes and exits once they are done: the end of its
  // stdout comes before its stderr has been read, as it can for a server refusing its configuration.
  const script =
    "require('node:fs').closeSync(1); setTimeout(() => { process.stderr.write('invalid configuration:\\n'); " +
    "process.stderr.write('  PARLEY_METRICS_PORT: must differ\\n', () => process.exit(1)); }, 100);";
  const started = spawnChild([process.execPath, "-e", script], /listening on (\d+)/);
  await expect(started).rejects.toThrow(/invalid configuration:\n {2}PARLEY_METRICS_PORT: must differ\n$/);
});
