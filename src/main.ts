/**
 * Composition root: the only module that names concrete adapters. It turns a validated Config into a running
 * process (store, services, HTTP) and hands back a handle to stop it cleanly.
 */
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { systemClock } from "./adapters/clock/system-clock.ts";
import { ulidIds } from "./adapters/ids/ulid-ids.ts";
import { argon2Hasher } from "./adapters/password/argon2-hasher.ts";
import { memoryRateLimiter } from "./adapters/rate-limit/memory-rate-limiter.ts";
import { openPostgresStore } from "./adapters/store/postgres/open-postgres-store.ts";
import { openSqliteStore } from "./adapters/store/sqlite/open-sqlite-store.ts";
import type { Config } from "./config/config.ts";
import { resolveJwtSecret } from "./config/jwt-secret.ts";
import { createHttpApp } from "./http/app.ts";
import type { Clock } from "./ports/clock.ts";
import type { DomainEvents } from "./ports/domain-events.ts";
import type { PasswordHasher } from "./ports/password-hasher.ts";
import type { Store } from "./ports/store.ts";
import { createServices, type Services } from "./services/services.ts";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly logger: Logger;
  /** Stops accepting, lets in-flight requests finish, then closes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly hasher?: PasswordHasher;
}

export function createLogger(level: Config["logLevel"]): Logger {
  return pino({
    level,
    base: { service: "parley" },
    // Defence in depth: these never belong in a log line even if a caller passes them by mistake.
    redact: {
      paths: ["password", "*.password", "token", "*.token", "accessToken", "refreshToken", "*.authorization", "authorization", "message", "*.body"],
      censor: "[redacted]",
    },
  });
}

/** The store the configuration asks for: PostgreSQL when a URL is set, else SQLite in the data directory. */
export function openStore(config: Config): Store {
  return config.databaseUrl !== ""
    ? openPostgresStore({ url: config.databaseUrl, schema: config.databaseSchema, maxConnections: config.databasePoolSize })
    : openSqliteStore({ path: join(config.dataDir, "parley.db") });
}

/** Opens and migrates the store, then wires the services: shared by the server and the admin commands. */
export async function openServices(config: Config, opts: StartOptions = {}): Promise<{ store: Store; services: Services }> {
  const clock = opts.clock ?? systemClock;
  const store = openStore(config);
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  const logger = opts.logger;
  const events: DomainEvents = {
    emit(event) {
      logger?.debug({ event: event.kind }, "domain event");
    },
  };
  const services = createServices(
    {
      store,
      clock,
      ids: ulidIds(),
      hasher: opts.hasher ?? argon2Hasher({ memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost }),
      limiter: memoryRateLimiter(clock),
      events,
    },
    { ...config, jwtSecret: await resolveJwtSecret(config.jwtSecret, config.dataDir) },
  );
  return { store, services };
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const { store, services } = await openServices(config, { ...opts, logger });
  const app = createHttpApp({
    services,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    ready: () => store.ping(),
  });
  const server = Bun.serve({ hostname: config.host, port: config.port, fetch: app.fetch });
  const port = server.port ?? config.port;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  logger.info({ port, store: store.dialect }, "parley listening");
  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    services,
    logger,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await store.close();
        logger.info("parley stopped");
      })();
      return stopping;
    },
  };
}
