/**
 * PARLEY_SLOW_COMMIT_MS through the real composition: a message whose commit the process got to late is logged as
 * `slow store commit` with where its time went, on whichever store the suite runs on; under the threshold, or
 * with 0, nothing is logged.
 */
import { afterAll, describe, expect, test } from "bun:test";
import pino from "pino";
import { startTestServer, type TestServer } from "../support/server.ts";
import { client, createRoom, signup } from "./helpers.ts";

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A server at `slowCommitMs` whose warnings are kept in `lines`. */
async function serverLogging(slowCommitMs: number): Promise<{ server: TestServer; lines: Line[] }> {
  const lines: Line[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const server = await startTestServer({ config: { slowCommitMs }, logger });
  return { server, lines };
}

/** Sends one message through the service and keeps the event loop busy for `blockMs` once it is handed over. */
async function sendBlocked(server: TestServer, blockMs: number): Promise<void> {
  const api = client(server.api);
  const ann = await signup(api, "slow");
  const room = await createRoom(api, ann, "slow commits");
  const principal = await server.services.auth.authenticate(ann.accessToken);
  await server.services.messages.send(principal, room.id, "held up", null, {
    handedOver: () => Bun.sleepSync(blockMs),
  });
}

const slowLines = (lines: readonly Line[]) => lines.filter((l) => l.msg === "slow store commit");

describe("slow store commits", () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.stop())));

  test("a commit over the threshold is logged once, as a warning, with its wait, lateness and execution", async () => {
    const { server, lines } = await serverLogging(40);
    servers.push(server);
    await sendBlocked(server, 80);
    const slow = slowLines(lines);
    expect(slow.length).toBe(1);
    const line = slow[0] as Line;
    expect(line.level).toBe(40);
    expect(line).toMatchObject({ calls: 1, committed: true, slowCommits: 1, thresholdMs: 40 });
    expect(line.lateMs as number).toBeGreaterThanOrEqual(75);
    expect(line.queuedMs as number).toBeGreaterThanOrEqual(line.lateMs as number);
    expect(line.totalMs as number).toBeGreaterThanOrEqual(80);
    expect(typeof line.executeMs).toBe("number");
    // The message itself is never in the line (the logger's redaction and the line's fields both keep it out).
    expect(JSON.stringify(line)).not.toContain("held up");
  });

  test("under the threshold, or with the log off (0), nothing is logged", async () => {
    const high = await serverLogging(60_000);
    const off = await serverLogging(0);
    servers.push(high.server, off.server);
    await sendBlocked(high.server, 80);
    await sendBlocked(off.server, 80);
    expect(slowLines(high.lines)).toEqual([]);
    expect(slowLines(off.lines)).toEqual([]);
  });
});
