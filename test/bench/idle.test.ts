/**
 * The idle scenario end to end, tiny, against a real Parley process: the check reads the RSS growth at the end of
 * the idle step and shows the one right after the connections opened beside it.
 */
import { expect, test } from "bun:test";
import { idleScenario } from "../../bench/scenarios/idle.ts";
import { UNPINNED } from "../support/unpinned.ts";

test("bench idle: both RSS figures measured, the check on the one after the idle step", async () => {
  const out = await idleScenario.run({
    values: { connections: "40", "room-size": "10", seconds: "2", ephemeral: true, workers: "1" },
    placement: UNPINNED,
    status: () => {},
  });
  const run = out.runs[0]!;
  expect(run.connections.ready).toBe(40);
  expect(run.steps).toHaveLength(1);
  expect(run.rssPerConnectionBytes).not.toBeNull();
  expect(run.rssPerConnectionAtEndBytes).not.toBeNull();
  const check = out.checks[0]!;
  const atEnd = run.rssPerConnectionAtEndBytes ?? Number.NaN;
  expect(check.ok).toBe(atEnd <= 4096);
  expect(check.value).toStartWith(`${atEnd.toLocaleString("en")} B (40 ready; `);
  expect(check.value).toContain(
    `${(run.rssPerConnectionBytes ?? 0).toLocaleString("en")} B right after they opened`,
  );
}, 60_000);
