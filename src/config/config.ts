import { z } from "zod";

/**
 * Every option Parley reads, with its environment variable and default. This is the only place that knows about
 * the environment: the rest of the code receives the frozen `Config`. README.md's configuration table mirrors it.
 */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * A whole number in [min, max], written in decimal digits. Not `z.coerce.number()` alone: it reads an empty value
 * (`PARLEY_PORT=`) as 0 and "1e3" as 1000, where a typo should be refused by name.
 */
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z.stringbool({ truthy: ["true", "1", "yes", "on"], falsy: ["false", "0", "no", "off"] });

export const CONFIG_OPTIONS = {
  host: { env: "PARLEY_HOST", schema: z.string().min(1), default: "0.0.0.0", doc: "Address to listen on." },
  port: {
    env: "PARLEY_PORT",
    schema: int(0, 65535),
    default: "8080",
    doc: "HTTP and WebSocket port (0 = any free port).",
  },
  dataDir: {
    env: "PARLEY_DATA_DIR",
    schema: z.string().min(1),
    default: "./data",
    doc: "Directory for the SQLite database and the generated JWT secret.",
  },
  databaseUrl: {
    env: "PARLEY_DATABASE_URL",
    schema: z.union([z.literal(""), z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")]),
    default: "",
    doc: "PostgreSQL URL (postgres://user@host:5432/db). Empty: embedded SQLite in the data directory.",
  },
  databaseSchema: {
    env: "PARLEY_DATABASE_SCHEMA",
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
    default: "public",
    doc: "PostgreSQL schema to use.",
  },
  databasePoolSize: {
    env: "PARLEY_DATABASE_POOL_SIZE",
    schema: int(1, 1000),
    default: "10",
    doc: "PostgreSQL connections per process.",
  },
  sqliteCommitIntervalMs: {
    env: "PARLEY_SQLITE_COMMIT_INTERVAL_MS",
    schema: int(0, 1000),
    default: "10",
    doc: "Shortest time between two SQLite group commits: under load, the writes of that window share one commit (one fsync), which costs less CPU per message and adds at most this much latency; a store idle that long commits at once. 0: every event-loop turn.",
  },
  slowCommitMs: {
    env: "PARLEY_SLOW_COMMIT_MS",
    schema: int(0, 3_600_000),
    default: "500",
    doc: "A store commit whose wait plus execution reaches this many milliseconds is logged as `slow store commit` (warn), with how long it waited for its turn, how late the process got to it and how long the commit itself took; at most one line a second, counting the rest. 0: off.",
  },
  jwtSecret: {
    env: "PARLEY_JWT_SECRET",
    schema: z.union([z.literal(""), z.string().min(32, "must be at least 32 characters")]),
    default: "",
    doc: "HMAC key for access tokens (≥ 32 chars). Empty: generated once into <dataDir>/jwt-secret. Required when processes do not share a data directory.",
  },
  jwtIssuer: {
    env: "PARLEY_JWT_ISSUER",
    schema: z.string().min(1),
    default: "parley",
    doc: "`iss` of access tokens, checked on every request.",
  },
  jwtAudience: {
    env: "PARLEY_JWT_AUDIENCE",
    schema: z.string().min(1),
    default: "parley",
    doc: "`aud` of access tokens, checked on every request.",
  },
  accessTokenTtlSeconds: {
    env: "PARLEY_ACCESS_TOKEN_TTL",
    schema: int(30, 86_400),
    default: "900",
    doc: "Access token lifetime in seconds.",
  },
  refreshTokenTtlSeconds: {
    env: "PARLEY_REFRESH_TOKEN_TTL",
    schema: int(60, 31_536_000),
    default: "2592000",
    doc: "Idle lifetime of a session's refresh token in seconds (slides on every refresh).",
  },
  argon2MemoryKib: {
    env: "PARLEY_ARGON2_MEMORY_KIB",
    schema: int(1024, 4_194_304),
    default: "19456",
    doc: "argon2id memory cost in KiB (OWASP: 19456).",
  },
  argon2TimeCost: {
    env: "PARLEY_ARGON2_TIME_COST",
    schema: int(1, 100),
    default: "2",
    doc: "argon2id iterations (OWASP: 2).",
  },
  messageMaxLength: {
    env: "PARLEY_MESSAGE_MAX_LENGTH",
    schema: int(1, 100_000),
    default: "4000",
    doc: "Longest message text, in characters.",
  },
  bodyLimitBytes: {
    env: "PARLEY_BODY_LIMIT",
    schema: int(1024, 10_485_760),
    default: "65536",
    doc: "Largest HTTP request body in bytes.",
  },
  loginMaxFailures: {
    env: "PARLEY_LOGIN_MAX_FAILURES",
    schema: int(1, 1000),
    default: "5",
    doc: "Failed logins per account per window before 429.",
  },
  loginIpMaxFailures: {
    env: "PARLEY_LOGIN_IP_MAX_FAILURES",
    schema: int(1, 100_000),
    default: "30",
    doc: "Failed logins per client address per window before 429.",
  },
  loginWindowSeconds: {
    env: "PARLEY_LOGIN_WINDOW",
    schema: int(1, 86_400),
    default: "900",
    doc: "Login throttling window in seconds.",
  },
  redisUrl: {
    env: "PARLEY_REDIS_URL",
    schema: z.union([
      z.literal(""),
      z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
    ]),
    default: "",
    doc: "Redis URL for the broker, presence and rate limits shared by several processes. Empty: in-process (one process only).",
  },
  redisPrefix: {
    env: "PARLEY_REDIS_PREFIX",
    schema: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/),
    default: "parley:",
    doc: "Prefix of every Redis key and channel.",
  },
  redisSharded: {
    env: "PARLEY_REDIS_SHARDED",
    schema: bool,
    default: "false",
    doc: "Use sharded pub/sub (SPUBLISH/SSUBSCRIBE), for Redis Cluster.",
  },
  redisClusterNodes: {
    env: "PARLEY_REDIS_CLUSTER_NODES",
    schema: z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== ""),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port, comma-separated")))
      .transform((nodes) =>
        nodes.map((n) => {
          const i = n.lastIndexOf(":");
          return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
        }),
      ),
    default: "",
    doc: "Redis Cluster masters (host:port,…) for the broker's sharded pub/sub. Presence and rate limits still use PARLEY_REDIS_URL, which must be set too.",
  },
  reusePort: {
    env: "PARLEY_REUSE_PORT",
    schema: bool,
    default: "false",
    doc: "Let several processes listen on the same port (SO_REUSEPORT). Requires PARLEY_REDIS_URL.",
  },
  metricsPort: {
    env: "PARLEY_METRICS_PORT",
    schema: z.union([z.literal("").transform(() => null), int(0, 65535)]),
    default: "",
    doc: "Port of a separate listener serving GET /metrics (Prometheus text format: process CPU and memory, event-loop lag, open WebSocket connections, the store's append latency and each group commit's own time and lateness, sends refused by the rate caps). Empty: no metrics listener. Never shared between processes: give each its own.",
  },
  metricsHost: {
    env: "PARLEY_METRICS_HOST",
    schema: z.string().min(1),
    default: "127.0.0.1",
    doc: "Address the metrics listener binds to (only with PARLEY_METRICS_PORT).",
  },
  wsAllowedOrigins: {
    env: "PARLEY_WS_ALLOWED_ORIGINS",
    schema: z.string().transform((s) =>
      s
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o !== ""),
    ),
    default: "",
    doc: "Comma-separated Origins allowed to open /ws (e.g. https://chat.example.com). Empty: any Origin (tokens, not cookies, authenticate).",
  },
  wsMaxFrameBytes: {
    env: "PARLEY_WS_MAX_FRAME_BYTES",
    schema: int(1024, 16_777_216),
    default: "65536",
    doc: "Largest STOMP frame (and WebSocket message) a client may send.",
  },
  wsMaxHeaders: {
    env: "PARLEY_WS_MAX_HEADERS",
    schema: int(4, 1000),
    default: "32",
    doc: "Most headers in one STOMP frame.",
  },
  wsMaxHeaderLineBytes: {
    env: "PARLEY_WS_MAX_HEADER_LINE",
    schema: int(64, 65_536),
    default: "8192",
    doc: "Longest STOMP header line in bytes.",
  },
  wsMaxSubscriptions: {
    env: "PARLEY_WS_MAX_SUBSCRIPTIONS",
    schema: int(1, 100_000),
    default: "200",
    doc: "Subscriptions per connection.",
  },
  wsMaxConnectionsPerUser: {
    env: "PARLEY_WS_MAX_CONNECTIONS_PER_USER",
    schema: int(1, 10_000),
    default: "20",
    doc: "Open WebSocket connections per user (per process).",
  },
  wsHeartbeatMs: {
    env: "PARLEY_WS_HEARTBEAT_MS",
    schema: int(0, 3_600_000),
    default: "10000",
    doc: "Heart-beat interval the server offers and asks for (0 = none); a silent peer is dropped after 2x.",
  },
  wsSendRatePerSecond: {
    env: "PARLEY_WS_SEND_RATE",
    schema: int(1, 100_000),
    default: "10",
    doc: "Messages per second per user (token bucket refill rate).",
  },
  wsSendBurst: {
    env: "PARLEY_WS_SEND_BURST",
    schema: int(1, 100_000),
    default: "30",
    doc: "Token bucket size: messages a user may send in a burst.",
  },
  roomSendRate: {
    env: "PARLEY_ROOM_SEND_RATE",
    schema: int(0, 1_000_000),
    default: "100",
    doc: "Messages per second one room accepts, from all senders together (token bucket refill; 0 = no cap). Excess sends get RATE_LIMITED.",
  },
  roomSendBurst: {
    env: "PARLEY_ROOM_SEND_BURST",
    schema: int(1, 1_000_000),
    default: "200",
    doc: "Room token bucket size: messages a room accepts in a burst.",
  },
  wsReplayBacklog: {
    env: "PARLEY_WS_REPLAY_BACKLOG",
    schema: int(1, 1_000_000),
    default: "1000",
    doc: "Most events replayed on resume; a longer gap gets a reset event instead.",
  },
  wsMaxBufferedBytes: {
    env: "PARLEY_WS_MAX_BUFFERED_BYTES",
    schema: int(16_384, 1_073_741_824),
    default: "1048576",
    doc: "Outgoing bytes buffered for one slow client before it is disconnected.",
  },
  wsCoalesceMs: {
    env: "PARLEY_WS_COALESCE_MS",
    schema: int(0, 1000),
    default: "200",
    doc: "In a large room (see PARLEY_WS_COALESCE_MIN_SUBSCRIBERS), how long events may wait to share one WebSocket message per subscriber topic: fewer socket writes, up to this much more latency (0 = no window: a large room publishes like a small one).",
  },
  wsCoalesceMinSubscribers: {
    env: "PARLEY_WS_COALESCE_MIN_SUBSCRIBERS",
    schema: int(0, 10_000_000),
    default: "1000",
    doc: "Subscriptions a room needs on one process before its events wait for the window (0 = every room); a smaller room publishes the events of one task together, without waiting.",
  },
  wsPaceMs: {
    env: "PARLEY_WS_PACE_MS",
    schema: int(0, 1000),
    default: "20",
    doc: "The pace of a busy room outside the window: a room may publish at once up to PARLEY_WS_PACE_BURST times in a row, then once per this interval, its events meanwhile waiting (at most this long) to share one WebSocket message per subscriber topic; a room whose events come less often never waits (0 = no pace: every task's events go out at its end).",
  },
  wsPaceBurst: {
    env: "PARLEY_WS_PACE_BURST",
    schema: int(1, 1000),
    default: "50",
    doc: "Publishes a room may make in a row, without waiting, before PARLEY_WS_PACE_MS paces it.",
  },
  presenceEventsMaxSubscribers: {
    env: "PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS",
    schema: int(0, 10_000_000),
    default: "1000",
    doc: "Subscriptions a room may have on one process for that process to announce its users coming online and going offline there; in a larger room it announces nothing, since a mass connect would cost members² deliveries, and clients read GET /api/v1/rooms/{roomId}/presence/count (or the list, /presence) instead (0 = no limit).",
  },
  typingEventsMaxSubscribers: {
    env: "PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS",
    schema: int(0, 10_000_000),
    default: "1000",
    doc: "Subscriptions a room may have on one process for typing events to reach them there; a larger room's subscribers on that process get none, since every typing event is a write to each of them, as a message is, without the room's send cap (0 = no limit).",
  },
  presenceTtlMs: {
    env: "PARLEY_PRESENCE_TTL_MS",
    schema: int(1000, 3_600_000),
    default: "30000",
    doc: "A connection not refreshed within this time stops counting as online (crashed process).",
  },
  trustProxy: {
    env: "PARLEY_TRUST_PROXY",
    schema: bool,
    default: "false",
    doc: "Take the client address from X-Forwarded-For (only behind a proxy you control).",
  },
  logLevel: { env: "PARLEY_LOG_LEVEL", schema: z.enum(LOG_LEVELS), default: "info", doc: "Log level." },
} as const;

type Options = typeof CONFIG_OPTIONS;
export type Config = Readonly<{ [K in keyof Options]: z.output<Options[K]["schema"]> }>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Validates every option once; throws ConfigError naming each bad option and its variable. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  overrides: Partial<Config> = {},
): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, opt] of Object.entries(CONFIG_OPTIONS)) {
    if (key in overrides) {
      out[key] = overrides[key as keyof Config];
      continue;
    }
    const raw = env[opt.env] ?? opt.default;
    const parsed = opt.schema.safeParse(raw.trim());
    if (parsed.success) out[key] = parsed.data;
    else
      problems.push(
        `${opt.env}=${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
      );
  }
  if (
    problems.length === 0 &&
    Array.isArray(out.redisClusterNodes) &&
    out.redisClusterNodes.length > 0 &&
    out.redisUrl === ""
  ) {
    problems.push("PARLEY_REDIS_CLUSTER_NODES is set: presence and rate limits also need PARLEY_REDIS_URL");
  }
  if (problems.length === 0 && out.reusePort === true && out.redisUrl === "") {
    problems.push("PARLEY_REUSE_PORT=true: several processes need a shared broker; set PARLEY_REDIS_URL");
  }
  if (
    problems.length === 0 &&
    out.metricsPort !== null &&
    out.metricsPort !== 0 &&
    out.metricsPort === out.port
  ) {
    problems.push("PARLEY_METRICS_PORT must differ from PARLEY_PORT: metrics have a listener of their own");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/** The environment of this process; the one place it is read. */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
