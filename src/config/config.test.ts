import { describe, expect, test } from "bun:test";
import { CONFIG_OPTIONS, ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  test("defaults give an embedded set-up on port 8080", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBe("");
    expect(c.dataDir).toBe("./data");
    expect(c.messageMaxLength).toBe(4000);
    expect(c.trustProxy).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("values are parsed and coerced", () => {
    const c = loadConfig({
      PARLEY_PORT: "9000",
      PARLEY_TRUST_PROXY: "yes",
      PARLEY_DATABASE_URL: "postgres://u@h/db",
    });
    expect(c.port).toBe(9000);
    expect(c.trustProxy).toBe(true);
    expect(c.databaseUrl).toBe("postgres://u@h/db");
  });

  test("a bad value names the variable", () => {
    expect(() => loadConfig({ PARLEY_PORT: "eighty" })).toThrow(/PARLEY_PORT/);
    expect(() => loadConfig({ PARLEY_DATABASE_URL: "mysql://x" })).toThrow(/PARLEY_DATABASE_URL/);
    expect(() => loadConfig({ PARLEY_JWT_SECRET: "short" })).toThrow(/PARLEY_JWT_SECRET/);
    expect(() => loadConfig({ PARLEY_LOG_LEVEL: "loud" })).toThrow(/PARLEY_LOG_LEVEL/);
  });

  test("every problem is reported at once", () => {
    try {
      loadConfig({ PARLEY_PORT: "-1", PARLEY_MESSAGE_MAX_LENGTH: "0" });
      throw new Error("expected ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(2);
    }
  });

  test("every default is itself valid", () => {
    for (const opt of Object.values(CONFIG_OPTIONS))
      expect(opt.schema.safeParse(opt.default).success).toBe(true);
  });
});

describe("README", () => {
  test("documents every option with its default", async () => {
    const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
    for (const opt of Object.values(CONFIG_OPTIONS)) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${opt.env}\``));
      expect(row, `${opt.env} missing from README.md`).toBeDefined();
      if (opt.default !== "") expect(row).toContain(`\`${opt.default}\``);
    }
  });
});

describe("metrics listener", () => {
  test("off by default; a port (0 = any free one) turns it on, bound to loopback unless told otherwise", () => {
    expect(loadConfig({}).metricsPort).toBeNull();
    expect(loadConfig({}).metricsHost).toBe("127.0.0.1");
    expect(loadConfig({ PARLEY_METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(loadConfig({ PARLEY_METRICS_PORT: "0", PARLEY_PORT: "0" }).metricsPort).toBe(0);
    expect(loadConfig({ PARLEY_METRICS_HOST: "0.0.0.0" }).metricsHost).toBe("0.0.0.0");
  });

  test("a bad port, or the public port itself, is refused by name", () => {
    for (const bad of ["-1", "65536", "9.5", "metrics", "1e3"]) {
      expect(() => loadConfig({ PARLEY_METRICS_PORT: bad })).toThrow(/PARLEY_METRICS_PORT/);
    }
    expect(() => loadConfig({ PARLEY_METRICS_PORT: "8080" })).toThrow(/must differ from PARLEY_PORT/);
    expect(() => loadConfig({ PARLEY_METRICS_PORT: "9000", PARLEY_PORT: "9000" })).toThrow(/must differ/);
    expect(() => loadConfig({ PARLEY_METRICS_HOST: "" })).toThrow(/PARLEY_METRICS_HOST/);
  });
});

describe("multi-process settings", () => {
  test("reusePort without Redis is refused with a reason", () => {
    expect(() => loadConfig({ PARLEY_REUSE_PORT: "true" })).toThrow(/PARLEY_REDIS_URL/);
    expect(
      loadConfig({ PARLEY_REUSE_PORT: "true", PARLEY_REDIS_URL: "redis://127.0.0.1:6379" }).reusePort,
    ).toBe(true);
  });

  test("SQLite commit interval: 10 ms by default, 0 allowed, out-of-range or non-integer values refused by name", () => {
    expect(loadConfig({}).sqliteCommitIntervalMs).toBe(10);
    expect(loadConfig({ PARLEY_SQLITE_COMMIT_INTERVAL_MS: "0" }).sqliteCommitIntervalMs).toBe(0);
    for (const bad of ["-1", "2.5", "1001", "soon", ""]) {
      expect(() => loadConfig({ PARLEY_SQLITE_COMMIT_INTERVAL_MS: bad })).toThrow(
        /PARLEY_SQLITE_COMMIT_INTERVAL_MS/,
      );
    }
  });

  test("slow-commit threshold: 500 ms by default, 0 turns it off, out-of-range or non-integer values refused by name", () => {
    expect(loadConfig({}).slowCommitMs).toBe(500);
    expect(loadConfig({ PARLEY_SLOW_COMMIT_MS: "0" }).slowCommitMs).toBe(0);
    expect(loadConfig({ PARLEY_SLOW_COMMIT_MS: "3600000" }).slowCommitMs).toBe(3_600_000);
    for (const bad of ["-1", "0.5", "3600001", "slow", ""]) {
      expect(() => loadConfig({ PARLEY_SLOW_COMMIT_MS: bad })).toThrow(/PARLEY_SLOW_COMMIT_MS/);
    }
  });

  test("coalescing settings: defaults, and out-of-range or non-integer values refused by name", () => {
    const defaults = loadConfig({});
    expect(defaults.wsCoalesceMs).toBe(200);
    expect(defaults.wsCoalesceMinSubscribers).toBe(1000);
    expect(loadConfig({ PARLEY_WS_COALESCE_MIN_SUBSCRIBERS: "0" }).wsCoalesceMinSubscribers).toBe(0);
    for (const bad of ["-1", "1.5", "many", ""]) {
      expect(() => loadConfig({ PARLEY_WS_COALESCE_MIN_SUBSCRIBERS: bad })).toThrow(
        /PARLEY_WS_COALESCE_MIN_SUBSCRIBERS/,
      );
    }
    expect(() => loadConfig({ PARLEY_WS_COALESCE_MS: "1001" })).toThrow(/PARLEY_WS_COALESCE_MS/);
    // An empty value is a mistake too, not 0 (which for the port would mean "any free port").
    expect(() => loadConfig({ PARLEY_PORT: "" })).toThrow(/PARLEY_PORT/);
  });

  test("typing events limit: 1000 by default, 0 for no limit, other values refused by name", () => {
    expect(loadConfig({}).typingEventsMaxSubscribers).toBe(1000);
    expect(loadConfig({ PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS: "0" }).typingEventsMaxSubscribers).toBe(0);
    for (const bad of ["-1", "2.5", "none", ""]) {
      expect(() => loadConfig({ PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS: bad })).toThrow(
        /PARLEY_TYPING_EVENTS_MAX_SUBSCRIBERS/,
      );
    }
  });

  test("presence events limit: 1000 by default, 0 for no limit, other values refused by name", () => {
    expect(loadConfig({}).presenceEventsMaxSubscribers).toBe(1000);
    expect(loadConfig({ PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS: "0" }).presenceEventsMaxSubscribers).toBe(0);
    for (const bad of ["-1", "2.5", "all", ""]) {
      expect(() => loadConfig({ PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS: bad })).toThrow(
        /PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS/,
      );
    }
  });

  test("pacing settings: defaults, 0 turns the pace off, out-of-range or non-integer values refused by name", () => {
    const defaults = loadConfig({});
    expect(defaults.wsPaceMs).toBe(20);
    expect(defaults.wsPaceBurst).toBe(50);
    expect(loadConfig({ PARLEY_WS_PACE_MS: "0" }).wsPaceMs).toBe(0);
    for (const bad of ["-1", "1.5", "1001", "soon", ""]) {
      expect(() => loadConfig({ PARLEY_WS_PACE_MS: bad })).toThrow(/PARLEY_WS_PACE_MS/);
    }
    // A burst of 0 would pace a room's very first publish: refused, like any non-integer.
    for (const bad of ["0", "-3", "2.5", "1001", "x"]) {
      expect(() => loadConfig({ PARLEY_WS_PACE_BURST: bad })).toThrow(/PARLEY_WS_PACE_BURST/);
    }
  });

  test("allowed origins are a trimmed list", () => {
    expect(
      loadConfig({ PARLEY_WS_ALLOWED_ORIGINS: " https://a.example , https://b.example," }).wsAllowedOrigins,
    ).toEqual(["https://a.example", "https://b.example"]);
    expect(loadConfig({}).wsAllowedOrigins).toEqual([]);
  });
});

describe("Redis Cluster", () => {
  test("nodes are parsed; a bad node or a missing PARLEY_REDIS_URL is refused with a reason", () => {
    const c = loadConfig({
      PARLEY_REDIS_URL: "redis://127.0.0.1:6379",
      PARLEY_REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001",
    });
    expect(c.redisClusterNodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
    ]);
    expect(() => loadConfig({ PARLEY_REDIS_URL: "redis://x:1", PARLEY_REDIS_CLUSTER_NODES: "nope" })).toThrow(
      /PARLEY_REDIS_CLUSTER_NODES/,
    );
    expect(() => loadConfig({ PARLEY_REDIS_CLUSTER_NODES: "h:7000" })).toThrow(/PARLEY_REDIS_URL/);
    expect(loadConfig({}).redisClusterNodes).toEqual([]);
  });
});
