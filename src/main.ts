/**
 * Composition root: the only module that names concrete adapters. It turns a validated Config into a running
 * process (store, broker, services, HTTP and the STOMP gateway on one Bun.serve) and hands back a handle to
 * stop it cleanly.
 */
import { join } from "node:path";
import { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import packageJson from "../package.json" with { type: "json" };
import { memoryBroker } from "./adapters/broker/memory-broker.ts";
import { redisBroker } from "./adapters/broker/redis-broker.ts";
import { redisClusterBroker } from "./adapters/broker/redis-cluster-broker.ts";
import { systemClock } from "./adapters/clock/system-clock.ts";
import { ulidIds } from "./adapters/ids/ulid-ids.ts";
import { PromMetrics } from "./adapters/metrics/prom-metrics.ts";
import { argon2Hasher } from "./adapters/password/argon2-hasher.ts";
import { memoryPresence } from "./adapters/presence/memory-presence.ts";
import { redisPresence } from "./adapters/presence/redis-presence.ts";
import { memoryRateLimiter } from "./adapters/rate-limit/memory-rate-limiter.ts";
import { memoryTokenBucket } from "./adapters/rate-limit/memory-token-bucket.ts";
import { redisRateLimiter } from "./adapters/rate-limit/redis-rate-limiter.ts";
import { redisTokenBucket } from "./adapters/rate-limit/redis-token-bucket.ts";
import { quitRedis } from "./adapters/redis/quit-redis.ts";
import { openPostgresStore } from "./adapters/store/postgres/open-postgres-store.ts";
import { SlowCommitLog } from "./adapters/store/slow-commit-log.ts";
import { openSqliteStore } from "./adapters/store/sqlite/open-sqlite-store.ts";
import type { Config } from "./config/config.ts";
import { resolveJwtSecret } from "./config/jwt-secret.ts";
import { createHttpApp } from "./http/app.ts";
import { type MetricsServer, serveMetrics } from "./http/metrics-server.ts";
import { localUrl } from "./lib/local-url.ts";
import type { Broker } from "./ports/broker.ts";
import type { Clock } from "./ports/clock.ts";
import type { CommitObserver } from "./ports/commit-timing.ts";
import type { DomainEvents } from "./ports/domain-events.ts";
import type { ServiceMetrics } from "./ports/metrics.ts";
import type { PasswordHasher } from "./ports/password-hasher.ts";
import type { Presence } from "./ports/presence.ts";
import type { RateLimiter, TokenBucket } from "./ports/rate-limiter.ts";
import type { Store } from "./ports/store.ts";
import { BrokerEvents } from "./realtime/broker-events.ts";
import type { Connection } from "./realtime/connection.ts";
import { Gateway, WS_PATH } from "./realtime/gateway.ts";
import { followRenames } from "./realtime/renames.ts";
import { UserNames } from "./realtime/user-names.ts";
import { createServices, type Services } from "./services/services.ts";

export const SERVER_NAME = `Parley/${packageJson.version}`;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly logger: Logger;
  /** Where GET /metrics answers (PARLEY_METRICS_PORT), or null when metrics are off. */
  readonly metricsUrl: string | null;
  /** Closes sockets (1001), stops accepting, lets in-flight requests finish, then closes broker and store. Idempotent. */
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
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "accessToken",
        "refreshToken",
        "*.authorization",
        "authorization",
        "message",
        "*.body",
      ],
      censor: "[redacted]",
    },
  });
}

/**
 * The store the configuration asks for: PostgreSQL when a URL is set, else SQLite in the data directory. Given a
 * logger, its slow commits are logged (PARLEY_SLOW_COMMIT_MS; slow-commit-log.ts), the last of them at close;
 * `onCommit` hears every group commit as well (the metrics).
 */
export function openStore(
  config: Config,
  opts: { logger?: Logger | undefined; onCommit?: CommitObserver | undefined } = {},
): Store {
  const { logger, onCommit: also } = opts;
  const slow =
    logger === undefined || config.slowCommitMs === 0
      ? null
      : new SlowCommitLog(logger, { thresholdMs: config.slowCommitMs });
  const log = slow?.observe;
  const observer: CommitObserver | undefined =
    log !== undefined && also !== undefined
      ? (t) => {
          log(t);
          also(t);
        }
      : (log ?? also);
  const onCommit = observer === undefined ? {} : { onCommit: observer };
  const store =
    config.databaseUrl !== ""
      ? openPostgresStore({
          url: config.databaseUrl,
          schema: config.databaseSchema,
          maxConnections: config.databasePoolSize,
          ...onCommit,
        })
      : openSqliteStore({
          path: join(config.dataDir, "parley.db"),
          commitIntervalMs: config.sqliteCommitIntervalMs,
          ...onCommit,
        });
  if (slow === null) return store;
  return {
    ...store,
    async close() {
      try {
        await store.close();
      } finally {
        slow.close();
      }
    },
  };
}

export interface OpenServicesOptions extends StartOptions {
  /** Where committed changes are announced; by default only logged (admin commands serve no clients). */
  readonly events?: (store: Store) => DomainEvents;
  readonly limiter?: RateLimiter;
  readonly buckets?: TokenBucket;
  readonly metrics?: ServiceMetrics;
  /** Hears every group commit of the store (ports/commit-timing.ts), besides the slow-commit log. */
  readonly onCommit?: CommitObserver;
}

/** Opens and migrates the store, then wires the services: shared by the server and the admin commands. */
export async function openServices(
  config: Config,
  opts: OpenServicesOptions = {},
): Promise<{ store: Store; services: Services }> {
  const clock = opts.clock ?? systemClock;
  const store = openStore(config, { logger: opts.logger, onCommit: opts.onCommit });
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  const logger = opts.logger;
  const events: DomainEvents = opts.events?.(store) ?? {
    emit(event) {
      logger?.debug({ event: event.kind }, "domain event");
    },
  };
  const services = createServices(
    {
      store,
      clock,
      ids: ulidIds(),
      hasher:
        opts.hasher ?? argon2Hasher({ memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost }),
      limiter: opts.limiter ?? memoryRateLimiter(clock),
      buckets: opts.buckets ?? memoryTokenBucket(clock),
      events,
      ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
    },
    { ...config, jwtSecret: await resolveJwtSecret(config.jwtSecret, config.dataDir) },
  );
  return { store, services };
}

/** What several processes must share to act as one: the broker, presence and the rate limits. */
interface SharedState {
  readonly broker: Broker;
  readonly presence: Presence;
  readonly limiter: RateLimiter;
  readonly bucket: TokenBucket;
  close(): Promise<void>;
}

async function openSharedState(config: Config, clock: Clock, logger: Logger): Promise<SharedState> {
  const onError = (err: unknown) => logger.warn({ err }, "broker error");
  if (config.redisUrl === "") {
    const broker = memoryBroker({ onError });
    return {
      broker,
      presence: memoryPresence(clock),
      limiter: memoryRateLimiter(clock),
      bucket: memoryTokenBucket(clock),
      close: () => broker.close(),
    };
  }
  const broker =
    config.redisClusterNodes.length > 0
      ? await redisClusterBroker({
          nodes: config.redisClusterNodes,
          prefix: config.redisPrefix,
          connectionName: `parley-${process.pid}`,
          onError,
        })
      : await redisBroker({
          url: config.redisUrl,
          prefix: config.redisPrefix,
          sharded: config.redisSharded,
          connectionName: `parley-${process.pid}`,
          onError,
        });
  const client = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectionName: `parley-${process.pid}:state`,
  });
  client.on("error", (err: unknown) => logger.warn({ err }, "redis error"));
  try {
    await client.connect();
  } catch (e) {
    await broker.close();
    client.disconnect();
    throw e;
  }
  const prefix = config.redisPrefix;
  return {
    broker,
    presence: redisPresence({ client, prefix }, clock),
    limiter: redisRateLimiter({ client, prefix }),
    bucket: redisTokenBucket({ client, prefix }, clock),
    async close() {
      await broker.close();
      await quitRedis(client);
    },
  };
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const metrics = config.metricsPort === null ? null : new PromMetrics();
  const shared = await openSharedState(config, clock, logger);
  let events: BrokerEvents | null = null;
  let names: UserNames | null = null;
  let opened: { store: Store; services: Services };
  try {
    opened = await openServices(config, {
      ...opts,
      clock,
      logger,
      limiter: shared.limiter,
      buckets: shared.bucket,
      ...(metrics === null ? {} : { metrics, onCommit: metrics.storeCommitted }),
      events: (store) => {
        names = new UserNames({ users: store.users, now: () => clock.now() });
        events = new BrokerEvents(shared.broker, names, logger);
        return events;
      },
    });
  } catch (e) {
    await shared.close();
    throw e;
  }
  const { store, services } = opened;
  if (events === null || names === null) throw new Error("broker events were not wired");
  try {
    await followRenames(shared.broker, names, logger);
  } catch (e) {
    await shared.close();
    await store.close();
    throw e;
  }
  const gateway = new Gateway({
    services,
    broker: shared.broker,
    presence: shared.presence,
    events,
    names,
    clock,
    ids: ulidIds(),
    logger,
    config,
    serverName: SERVER_NAME,
  });
  const app = createHttpApp({
    services,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    ready: () => store.ping(),
    presence: gateway.presence,
  });
  const server = Bun.serve<Connection>({
    hostname: config.host,
    port: config.port,
    reusePort: config.reusePort,
    fetch(req, srv) {
      if (pathOf(req.url) === WS_PATH) {
        // Undefined means upgraded: Bun owns the socket from here.
        return gateway.upgrade(req, srv);
      }
      // The server is Hono's env: client-info.ts reads the peer address through it.
      return app.fetch(req, srv);
    },
    websocket: gateway.websocket,
  });
  gateway.attach(server);
  let metricsServer: MetricsServer | null = null;
  if (metrics !== null && config.metricsPort !== null) {
    metrics.gauge(
      "parley_ws_connections",
      "Open WebSocket connections on this process.",
      () => gateway.connectionCount,
    );
    try {
      metricsServer = await serveMetrics({
        host: config.metricsHost,
        port: config.metricsPort,
        metrics,
        logger,
      });
    } catch (e) {
      await gateway.close();
      await server.stop();
      await shared.close();
      await store.close();
      throw e;
    }
  }
  const port = server.port ?? config.port;
  logger.info(
    {
      port,
      store: store.dialect,
      broker: config.redisUrl === "" ? "memory" : "redis",
      metrics: metricsServer?.url ?? "off",
    },
    "parley listening",
  );
  if (store.dialect === "postgres" && config.redisUrl === "") {
    logger.warn(
      "PostgreSQL store without PARLEY_REDIS_URL: real-time events stay inside this process, so only one process may serve this database",
    );
  }
  let stopping: Promise<void> | null = null;
  return {
    url: localUrl(config.host, port),
    port,
    services,
    logger,
    metricsUrl: metricsServer?.url ?? null,
    stop() {
      stopping ??= (async () => {
        await gateway.close();
        await server.stop();
        await metricsServer?.stop();
        await shared.close();
        await store.close();
        logger.info("parley stopped");
      })();
      return stopping;
    },
  };
}

/** The path of a request URL without building a URL object (this runs for every request). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}
