/**
 * The settings every Parley process of the bench runs with, whichever target starts it (one process on SQLite or
 * several on PostgreSQL + Redis): cheap argon2, raised rate limits, quiet logs, and a fixed JWT secret with day-long
 * access tokens, so the tokens a cached fixture saved are still accepted by the processes of a later run.
 */

const JWT_SECRET = "parley-bench-only-secret-0123456789abcdef";
/** The longest lifetime Parley accepts (PARLEY_ACCESS_TOKEN_TTL ≤ 86,400 s). */
const ACCESS_TOKEN_TTL_S = 86_400;

/**
 * A cached fixture older than this is rebuilt: its tokens expire ACCESS_TOKEN_TTL_S after its signups, and the
 * 4 h left keep them valid through any run that starts before this age.
 */
export const FIXTURE_MAX_AGE_MS = ACCESS_TOKEN_TTL_S * 1000 - 4 * 3600_000;

/**
 * `metricsPort`: each process's own listener for GET /metrics (the runner reads the store's append latency there);
 * a process of a multi-process target gets a port of its own, as PARLEY_METRICS_PORT is never shared.
 */
export function benchEnv(dataDir: string, port: number, metricsPort: number): Record<string, string> {
  return {
    PARLEY_HOST: "0.0.0.0",
    PARLEY_PORT: String(port),
    PARLEY_METRICS_PORT: String(metricsPort),
    PARLEY_METRICS_HOST: "127.0.0.1",
    PARLEY_DATA_DIR: dataDir,
    PARLEY_JWT_SECRET: JWT_SECRET,
    PARLEY_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_S),
    PARLEY_ARGON2_MEMORY_KIB: "1024",
    PARLEY_ARGON2_TIME_COST: "1",
    PARLEY_WS_SEND_RATE: "100000",
    PARLEY_WS_SEND_BURST: "100000",
    // No per-room cap unless a scenario measures one (afreeca-one-room): fan-out ramps past the default.
    PARLEY_ROOM_SEND_RATE: "0",
    PARLEY_LOGIN_IP_MAX_FAILURES: "100000",
    PARLEY_LOG_LEVEL: "warn",
  };
}

/** Where a bench process started with `benchEnv(…, metricsPort)` serves its metrics. */
export function metricsUrl(metricsPort: number): string {
  return `http://127.0.0.1:${metricsPort}/metrics`;
}
