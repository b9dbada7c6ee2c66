/**
 * Starts the real Parley server (the same composition as `parley start`) on a random port, on a fresh SQLite
 * file or a fresh PostgreSQL schema, for integration tests. Argon2 runs with small parameters here only to keep
 * the suite fast; the production parameters are tested in src/adapters/password.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import postgres from "postgres";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { startServer } from "../../src/main.ts";
import type { Services } from "../../src/services/services.ts";
import { PG_URL, REDIS_URL } from "./services.ts";

export interface TestServer {
  readonly url: string;
  /** The STOMP-over-WebSocket endpoint. */
  readonly wsUrl: string;
  /** The PostgreSQL schema, for a second server on the same data (null on SQLite). */
  readonly schema: string | null;
  /** The Redis key prefix, for a second server on the same broker (null without Redis). */
  readonly redisPrefix: string | null;
  readonly api: string;
  readonly services: Services;
  readonly config: Config;
  /** GET /metrics on its own listener, when the test asked for one (config.metricsPort); else null. */
  readonly metricsUrl: string | null;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly store?: "sqlite" | "postgres";
  readonly config?: Partial<Config>;
  /**
   * Use the Redis broker, presence and rate limits. `true` picks a fresh key prefix; a string shares that
   * prefix (and so the broker) with other servers started with it, as processes of one deployment would.
   */
  readonly redis?: boolean | string;
  /** Share this PostgreSQL schema (created by another test server) instead of making a fresh one. */
  readonly schema?: string;
  /** Where the server logs (default: nowhere). */
  readonly logger?: Logger;
}

/**
 * `PARLEY_TEST_STORE=postgres` runs every integration test that does not pick a store on PostgreSQL: the second
 * pass of `npm test` (test/support/run-on-postgres.ts) proves the same HTTP and STOMP suite on both stores.
 */
const DEFAULT_STORE: "sqlite" | "postgres" =
  process.env.PARLEY_TEST_STORE === "postgres" ? "postgres" : "sqlite";

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const opts: TestServerOptions = { ...options, store: options.store ?? DEFAULT_STORE };
  const dataDir = await mkdtemp(join(tmpdir(), "parley-test-"));
  const ownSchema = opts.store === "postgres" && opts.schema === undefined;
  const schema =
    opts.store === "postgres"
      ? (opts.schema ?? `parley_it_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`)
      : null;
  const redisPrefix =
    opts.redis === undefined || opts.redis === false
      ? null
      : typeof opts.redis === "string"
        ? opts.redis
        : `parley-it-${crypto.randomUUID().slice(0, 8)}:`;
  const config = loadConfig(
    {},
    {
      host: "127.0.0.1",
      port: 0,
      dataDir,
      jwtSecret: "test-secret-test-secret-test-secret-0123456789",
      argon2MemoryKib: 1024,
      argon2TimeCost: 1,
      logLevel: "silent",
      ...(schema ? { databaseUrl: PG_URL, databaseSchema: schema, databasePoolSize: 5 } : {}),
      ...(redisPrefix ? { redisUrl: REDIS_URL, redisPrefix } : {}),
      ...opts.config,
    },
  );
  const server = await startServer(config, { logger: opts.logger ?? pino({ level: "silent" }) });
  return {
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, "ws")}/ws`,
    schema,
    redisPrefix,
    api: `${server.url}/api/v1`,
    services: server.services,
    config,
    metricsUrl: server.metricsUrl,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (schema && ownSchema) {
        const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.end();
      }
    },
  };
}

/**
 * Two servers as two processes of one deployment would be: one PostgreSQL schema and one Redis prefix between
 * them, nothing else shared. `two` uses the schema and prefix `one` made; stop `two` first.
 */
export async function startServerPair(
  config: TestServerOptions["config"] = {},
): Promise<{ one: TestServer; two: TestServer }> {
  const one = await startTestServer({ store: "postgres", redis: true, config });
  const two = await startTestServer({
    store: "postgres",
    schema: one.schema ?? undefined,
    redis: one.redisPrefix ?? true,
    config,
  });
  return { one, two };
}

/**
 * startServerPair for the calling describe block: started in its beforeAll, stopped in its afterAll (`two`
 * first). Read `one` and `two` inside tests, after that beforeAll has run.
 */
export function useServerPair(config: TestServerOptions["config"] = {}): {
  readonly one: TestServer;
  readonly two: TestServer;
} {
  let pair: { one: TestServer; two: TestServer } | undefined;
  beforeAll(async () => {
    pair = await startServerPair(config);
  });
  afterAll(async () => {
    await pair?.two.stop();
    await pair?.one.stop();
  });
  const get = () => {
    if (pair === undefined) throw new Error("useServerPair: the servers are read before their beforeAll ran");
    return pair;
  };
  return {
    get one() {
      return get().one;
    },
    get two() {
      return get().two;
    },
  };
}
