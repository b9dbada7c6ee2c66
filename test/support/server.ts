/**
 * Starts the real Parley server (the same composition as `parley start`) on a random port, on a fresh SQLite
 * file or a fresh PostgreSQL schema, for integration tests. Argon2 runs with small parameters here only to keep
 * the suite fast; the production parameters are tested in src/adapters/password.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import pino from "pino";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { startServer } from "../../src/main.ts";
import type { Services } from "../../src/services/services.ts";
import { PG_URL } from "./services.ts";

export interface TestServer {
  readonly url: string;
  readonly api: string;
  readonly services: Services;
  readonly config: Config;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly store?: "sqlite" | "postgres";
  readonly config?: Partial<Config>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-test-"));
  const schema = opts.store === "postgres" ? `parley_it_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}` : null;
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
      ...opts.config,
    },
  );
  const server = await startServer(config, { logger: pino({ level: "silent" }) });
  return {
    url: server.url,
    api: `${server.url}/api/v1`,
    services: server.services,
    config,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (schema) {
        const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.end();
      }
    },
  };
}
