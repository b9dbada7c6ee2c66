import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { startServer } from "../../src/main.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { StompTestClient } from "../support/stomp-client.ts";
import { type Client, client, createRoom, expectError, expectStatus, send, signup } from "./helpers.ts";

/** The value of one sample (`name` or `name{labels}` exactly as written), or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return res.text();
}

describe("GET /metrics on its own listener (PARLEY_METRICS_PORT)", () => {
  let server: TestServer;
  let api: Client;
  let metricsUrl: string;
  beforeAll(async () => {
    server = await startTestServer({ config: { metricsPort: 0 } });
    api = client(server.api);
    if (server.metricsUrl === null) throw new Error("the server started without its metrics listener");
    metricsUrl = server.metricsUrl;
  });
  afterAll(() => server.stop());

  test("serves the runtime's process metrics and Parley's own, in Prometheus text format", async () => {
    const text = await scrape(metricsUrl);
    const cpu = sample(text, "process_cpu_seconds_total") ?? Number.NaN;
    expect(cpu).toBeGreaterThan(0);
    // The process's CPU since it started, user and system together.
    expect(cpu).toBeCloseTo(
      (sample(text, "process_cpu_user_seconds_total") ?? Number.NaN) +
        (sample(text, "process_cpu_system_seconds_total") ?? Number.NaN),
      6,
    );
    expect(cpu).toBeGreaterThanOrEqual(process.cpuUsage().user / 1e6 / 10);
    expect(sample(text, "process_start_time_seconds")).toBeLessThanOrEqual(Date.now() / 1000);
    expect(sample(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE parley_store_append_seconds histogram");
    expect(text).toContain("# TYPE parley_store_commit_execute_seconds histogram");
    expect(text).toContain("# TYPE parley_store_commit_late_seconds histogram");
    expect(text).toContain("# TYPE parley_ws_connections gauge");
  });

  test("every committed message is one observation of the append latency, whether sent over HTTP or STOMP", async () => {
    const before = await scrape(metricsUrl);
    const count0 = sample(before, "parley_store_append_seconds_count") ?? Number.NaN;
    const sum0 = sample(before, "parley_store_append_seconds_sum") ?? Number.NaN;
    const owner = await signup(api, "metrics");
    const room = await createRoom(api, owner, "metrics room");
    for (const text of ["one", "two", "three"]) await send(api, owner, room.id, text);

    const ws = await StompTestClient.connect(server.wsUrl, owner.accessToken);
    try {
      const receipt = await ws.sendWithReceipt("/pub/message", { roomId: room.id, message: "four" });
      expect(receipt.command).toBe("RECEIPT");
      const after = await scrape(metricsUrl);
      expect(sample(after, "parley_store_append_seconds_count")).toBe(count0 + 4);
      expect(sample(after, 'parley_store_append_seconds_bucket{le="+Inf"}')).toBe(count0 + 4);
      expect(sample(after, "parley_store_append_seconds_sum")).toBeGreaterThan(sum0);
      expect(sample(after, "parley_ws_connections")).toBe(1);
    } finally {
      ws.close();
    }
    await ws.closed;
    // The server counts the connection gone once its close handler ran, which may follow the client's close.
    const deadline = Date.now() + 3000;
    let open = sample(await scrape(metricsUrl), "parley_ws_connections");
    while (open !== 0 && Date.now() < deadline) {
      await Bun.sleep(20);
      open = sample(await scrape(metricsUrl), "parley_ws_connections");
    }
    expect(open).toBe(0);
  });

  test("each group commit is one observation of its own time and of its lateness; a late one shows as late", async () => {
    const late = (text: string) =>
      (sample(text, "parley_store_commit_late_seconds_count") ?? Number.NaN) -
      (sample(text, 'parley_store_commit_late_seconds_bucket{le="0.05"}') ?? Number.NaN);
    const before = await scrape(metricsUrl);
    const commits0 = sample(before, "parley_store_commit_execute_seconds_count") ?? Number.NaN;
    const owner = await signup(api, "latecommit");
    const room = await createRoom(api, owner, "late commits");
    const principal = await server.services.auth.authenticate(owner.accessToken);
    // Keeps the event loop from the commit for 80 ms once the message is handed to the store.
    await server.services.messages.send(principal, room.id, "late", null, {
      handedOver: () => Bun.sleepSync(80),
    });
    const after = await scrape(metricsUrl);
    const commits = sample(after, "parley_store_commit_execute_seconds_count") ?? Number.NaN;
    expect(commits).toBeGreaterThan(commits0);
    expect(sample(after, "parley_store_commit_late_seconds_count")).toBe(commits);
    expect(late(after) - late(before)).toBe(1);
    expect(sample(after, "parley_store_commit_late_seconds_sum")).toBeGreaterThanOrEqual(0.075);
  });

  test("refused sends are not appends: nothing is observed for them", async () => {
    const owner = await signup(api, "metricsowner");
    const outsider = await signup(api, "metricsoutsider");
    const room = await createRoom(api, owner, "closed room");
    const before = sample(await scrape(metricsUrl), "parley_store_append_seconds_count");
    expectError(
      await api.post(`/rooms/${room.id}/messages`, { message: "hi" }, outsider.accessToken),
      "ROOM_NOT_FOUND",
    );
    expectError(
      await api.post(`/rooms/${room.id}/messages`, { message: "   " }, owner.accessToken),
      "VALIDATION_FAILED",
    );
    expect(sample(await scrape(metricsUrl), "parley_store_append_seconds_count")).toBe(before);
  });

  test("other methods and paths get the API's error shape; the public port does not serve metrics", async () => {
    const post = await fetch(metricsUrl, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("METHOD_NOT_ALLOWED");
    const other = await fetch(metricsUrl.replace(/\/metrics$/, "/api/v1/me"));
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const head = await fetch(metricsUrl, { method: "HEAD" });
    expect(head.status).toBe(200);
    const publicPort = await fetch(`${server.url}/metrics`);
    expect(publicPort.status).toBe(404);
    expect(((await publicPort.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});

describe("sends refused by a rate budget are counted by scope", () => {
  let server: TestServer;
  let api: Client;
  beforeAll(async () => {
    // A room takes one message a second after a burst of 2; a WebSocket sender 1 a second after a burst of 3.
    server = await startTestServer({
      config: { metricsPort: 0, roomSendRate: 1, roomSendBurst: 2, wsSendRatePerSecond: 1, wsSendBurst: 3 },
    });
    api = client(server.api);
  });
  afterAll(() => server.stop());

  const limited = async (scope: string): Promise<number> =>
    sample(await scrape(server.metricsUrl ?? ""), `parley_sends_rate_limited_total{scope="${scope}"}`) ??
    Number.NaN;

  test("the room's cap: one per RATE_LIMITED a member got; an outsider's refusal is not one", async () => {
    expect(await limited("room")).toBe(0);
    expect(await limited("sender")).toBe(0);
    const [owner, outsider] = await Promise.all([signup(api, "capowner"), signup(api, "capoutsider")]);
    const room = await createRoom(api, owner, "capped");
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.post(`/rooms/${room.id}/messages`, { message: `m${i}` }, owner.accessToken),
      ),
    );
    const refused = results.filter((r) => r.status === 429).length;
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(await limited("room")).toBe(refused);
    expectError(
      await api.post(`/rooms/${room.id}/messages`, { message: "x" }, outsider.accessToken),
      "ROOM_NOT_FOUND",
    );
    expect(await limited("room")).toBe(refused);
    expect(await limited("sender")).toBe(0);
  });

  test("the sender's own budget over STOMP: one per RATE_LIMITED answer", async () => {
    const owner = await signup(api, "wsflood");
    // Rooms of their own: each takes two before its cap, so the sender's budget of 3 is what refuses.
    const rooms = await Promise.all([1, 2, 3, 4].map((i) => createRoom(api, owner, `flood ${i}`)));
    const before = await limited("sender");
    const ws = await StompTestClient.connect(server.wsUrl, owner.accessToken);
    try {
      const answers = await Promise.all(
        rooms.flatMap((room) =>
          [0, 1].map((i) => ws.sendWithReceipt("/pub/message", { roomId: room.id, message: `m${i}` })),
        ),
      );
      const refused = answers.filter((f) => f.command !== "RECEIPT");
      expect(refused.length).toBeGreaterThanOrEqual(4);
      expect(await limited("sender")).toBe(before + refused.length);
    } finally {
      ws.close();
    }
  });
});

describe("metrics off and misconfigured", () => {
  test("by default there is no metrics listener", async () => {
    const server = await startTestServer();
    try {
      expect(server.metricsUrl).toBeNull();
      expectStatus(await client(server.api).get("/me"), 401);
    } finally {
      await server.stop();
    }
  });

  test("on IPv6 wildcard and loopback addresses, the URLs the server reports reach it", async () => {
    const server = await startTestServer({ config: { host: "::", metricsHost: "::1", metricsPort: 0 } });
    try {
      expect(server.url).toStartWith("http://[::1]:");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(server.metricsUrl ?? "").toStartWith("http://[::1]:");
      expect(await (await fetch(server.metricsUrl ?? "")).text()).toContain("parley_ws_connections");
    } finally {
      await server.stop();
    }
  });

  test("a metrics port already in use fails the start, and the server releases what it had opened", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    const dataDir = await mkdtemp(join(tmpdir(), "parley-metrics-"));
    try {
      const config: Config = loadConfig(
        {},
        {
          host: "127.0.0.1",
          port: 0,
          dataDir,
          jwtSecret: "test-secret-test-secret-test-secret-0123456789",
          logLevel: "silent",
          metricsHost: "127.0.0.1",
          metricsPort: taken.port ?? 0,
        },
      );
      await expect(startServer(config)).rejects.toThrow();
      // The public port of the failed start was released: a server on the same data starts and answers.
      const next = await startServer({ ...config, metricsPort: null });
      try {
        expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
      } finally {
        await next.stop();
      }
    } finally {
      await taken.stop(true);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
