/**
 * The multi-process bench target against the real PostgreSQL and Redis, tiny (2 processes, 24 users): the first run
 * builds the fixture and keeps it as a template schema; a later run copies the template (no signups: the same
 * users, tokens and rooms come back) and starts without the earlier run's messages; stop removes the run's schema
 * and Redis keys but not the template; `fresh` builds it again; templates made by other migrations are dropped. A
 * stop that comes while processes are (re)starting still stops every one of them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { Redis } from "ioredis";
import postgres from "postgres";
import { readHistogram } from "../../bench/metrics/prom-histogram.ts";
import { roomsOf } from "../../bench/scenarios/common.ts";
import { type ClusterOptions, startParleyCluster } from "../../bench/targets/parley-cluster.ts";
import type { Prepared, Target } from "../../bench/targets/target.ts";
import { APPEND_SECONDS_METRIC } from "../../src/adapters/metrics/prom-metrics.ts";
import { PG_URL, postgresAvailable, REDIS_URL, redisAvailable } from "../support/services.ts";

// Under CI=true an unreachable service throws here instead (services.ts).
const available = (await postgresAvailable()) && (await redisAvailable());

const layout = roomsOf(2, 12);
const USERS = layout.connRooms.length;
const opts: ClusterOptions = {
  processes: 2,
  cpus: null,
  pgUrl: PG_URL,
  redisUrl: REDIS_URL,
  poolSize: 2,
  cacheTag: `cluster-template-test-${process.pid}-${Date.now()}`,
};
/** A template of another build's migrations: its key is replaced, so saving a template drops it. */
const STALE = `parley_benchfix_stale${process.pid}`;

/** Every template the tests made, dropped at the end. */
const templates = new Set<string>([STALE]);

const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });

async function schemaExists(name: string): Promise<boolean> {
  return (await admin`SELECT 1 FROM pg_namespace WHERE nspname = ${name}`).length > 0;
}

async function count(schema: string, table: string): Promise<number> {
  const [row] = await admin.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM "${schema}"."${table}"`);
  return Number(row?.n);
}

async function redisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    return (await redis.keys(`${prefix}*`)).length;
  } finally {
    redis.disconnect();
  }
}

/** Live processes started with PARLEY_DATABASE_SCHEMA=`schema` (this user's: others' environ is unreadable). */
function processesOn(schema: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/environ`, "utf8")
          .split("\0")
          .includes(`PARLEY_DATABASE_SCHEMA=${schema}`)
      )
        found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
  return found;
}

function api(port: number, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function historyOf(port: number, roomId: string, token: string): Promise<unknown[]> {
  const res = await api(port, `/rooms/${roomId}/messages`, token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: unknown[] }).messages;
}

interface Prep {
  readonly prepared: Prepared;
  readonly statuses: string[];
  readonly template: string;
  /** The run's schema; its Redis prefix is this and a colon. */
  readonly schema: string;
}

async function prepare(target: Target): Promise<Prep> {
  const statuses: string[] = [];
  const prepared = await target.prepare(layout, (l) => statuses.push(l));
  const copied = statuses.map((l) => /template (\w+) copied into (\w+)/.exec(l)).find((m) => m !== null);
  expect(copied).toBeDefined();
  templates.add(copied?.[1] ?? "");
  return { prepared, statuses, template: copied?.[1] ?? "", schema: copied?.[2] ?? "" };
}

const built = (s: readonly string[]) =>
  s.some((l) => l.includes(`${USERS} users, ${layout.rooms} rooms created`));

afterAll(async () => {
  if (available) {
    for (const s of templates) if (s !== "") await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  }
  await admin.end();
});

describe.skipIf(!available)("bench multi-process Parley target", () => {
  test("a second run copies the template: no signups, none of the first run's messages, its tokens work", async () => {
    await admin.unsafe(`CREATE SCHEMA "${STALE}"`);
    await admin.unsafe(
      `CREATE TABLE "${STALE}".parley_bench_fixture AS SELECT 'stale${process.pid}' AS key, 'other' AS migrations, ${Date.now()}::bigint AS created_at, '{}' AS fixture`,
    );

    const first = await startParleyCluster(opts);
    let one: Prep;
    try {
      one = await prepare(first);
      expect(built(one.statuses)).toBe(true);
      const token = one.prepared.tokens?.[0] ?? "";
      const roomId = one.prepared.roomIds[0]!;
      expect(
        (await api(first.port, `/rooms/${roomId}/messages`, token, { message: "left by run 1" })).status,
      ).toBe(201);
      expect(await historyOf(first.port, roomId, token)).toHaveLength(1);
      // Each process has a metrics listener of its own; the one message was committed by exactly one of them.
      const urls = first.metricsUrls ?? [];
      expect(urls).toHaveLength(2);
      expect(new Set(urls).size).toBe(2);
      const commits = await Promise.all(
        urls.map(async (u) => {
          const h = readHistogram(await (await fetch(u)).text(), APPEND_SECONDS_METRIC);
          return h?.count ?? Number.NaN;
        }),
      );
      expect(commits.sort()).toEqual([0, 1]);
      // The run's message went to the run's copy, not to the template.
      expect(await count(one.template, "messages")).toBe(0);
      expect(await count(one.schema, "messages")).toBe(1);
    } finally {
      await first.stop();
    }
    expect(await schemaExists(one.schema)).toBe(false);
    expect(await redisKeys(`${one.schema}:`)).toBe(0);
    expect(await schemaExists(one.template)).toBe(true);
    expect(await schemaExists(STALE)).toBe(false);
    expect(await count(one.template, "users")).toBe(USERS);

    const second = await startParleyCluster(opts);
    try {
      const two = await prepare(second);
      expect(two.template).toBe(one.template);
      expect(two.schema).not.toBe(one.schema);
      expect(two.statuses.some((l) => l.startsWith("fixture: reusing template"))).toBe(true);
      // No signups: the same users (a signup would mint another id and token) and rooms, none created.
      expect(built(two.statuses)).toBe(false);
      expect(two.prepared.tokens).toEqual(one.prepared.tokens);
      expect(two.prepared.roomIds).toEqual(one.prepared.roomIds);
      expect(await count(two.schema, "users")).toBe(USERS);
      expect(await count(two.schema, "members")).toBe(USERS);
      // Identity values and sequences as made: a member added now numbers after the fixture's.
      const [seq] = await admin.unsafe<{ t: string; r: string }[]>(
        `SELECT (SELECT last_value FROM "${one.template}".members_join_no_seq)::text AS t,
                (SELECT last_value FROM "${two.schema}".members_join_no_seq)::text AS r`,
      );
      expect(seq?.r).toBe(seq?.t);
      const [migrated] = await admin.unsafe<{ n: string }[]>(
        `SELECT count(*) AS n FROM "${two.schema}".schema_migrations`,
      );
      expect(Number(migrated?.n)).toBeGreaterThan(0);

      const tokens = two.prepared.tokens ?? [];
      const [room0, room1] = two.prepared.roomIds;
      expect(await historyOf(second.port, room0!, tokens[0]!)).toHaveLength(0);
      expect(await historyOf(second.port, room1!, tokens[USERS - 1]!)).toHaveLength(0);
      const sent = await api(second.port, `/rooms/${room0}/messages`, tokens[5]!, { message: "run 2" });
      expect(sent.status).toBe(201);
      expect(await historyOf(second.port, room0!, tokens[0]!)).toHaveLength(1);
    } finally {
      await second.stop();
    }

    // fresh: the fixture is built again and replaces the template of its key.
    const third = await startParleyCluster({ ...opts, fresh: true });
    try {
      const three = await prepare(third);
      expect(built(three.statuses)).toBe(true);
      expect(three.template).toBe(one.template);
      expect(three.prepared.tokens).not.toEqual(one.prepared.tokens);
      expect(
        await historyOf(third.port, three.prepared.roomIds[0]!, three.prepared.tokens?.[0] ?? ""),
      ).toHaveLength(0);
    } finally {
      await third.stop();
    }
    expect(await count(one.template, "users")).toBe(USERS);
  }, 180_000);

  test("stopping while the processes restart leaves none running and drops the run's schema and Redis keys", async () => {
    const target = await startParleyCluster(opts);
    let schema = "";
    try {
      schema = (await prepare(target)).schema;
      expect(processesOn(schema)).toHaveLength(2);
      // Stopped while the first process of the restart is still starting: it must be stopped once it is up too.
      const restarting = target.restart?.({}) ?? Promise.resolve();
      await Bun.sleep(100);
      await target.stop();
      await restarting.catch(() => {});
    } finally {
      await target.stop();
    }
    await Bun.sleep(200);
    expect(processesOn(schema)).toEqual([]);
    expect(await schemaExists(schema)).toBe(false);
    expect(await redisKeys(`${schema}:`)).toBe(0);
  }, 120_000);
});
