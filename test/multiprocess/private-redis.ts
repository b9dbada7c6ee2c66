/**
 * A Redis server owned by one test: a `redis-server` child process on a free loopback port, with no persistence
 * and its own scratch directory. The test may kill and restart it at will, since nothing else uses it; the
 * shared Redis the rest of the suite relies on is never touched.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./cluster.ts";

const READY_TIMEOUT_MS = 10_000;
/** Output kept for failure reports: the tail says why the server refused to start. */
const OUTPUT_KEEP_CHARS = 8_000;
/** Attempts at the first start: another process may take the free port before the server binds it. */
const START_ATTEMPTS = 3;

export interface PrivateRedis {
  readonly port: number;
  /** redis://127.0.0.1:port */
  readonly url: string;
  /** How many times a server process was started on the port (1 after `startPrivateRedis`). */
  starts(): number;
  /** SIGKILLs the server (a crash: no goodbye to its clients); resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** `kill()` then `start()`. */
  restart(): Promise<void>;
  /** Kills the server if it runs and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Whether `redis-server` is on PATH. When it is not, the caller skips (with one line saying why), except under
 * CI=true, where a missing server binary is a failure.
 */
export function redisServerInstalled(): boolean {
  if (Bun.which("redis-server") !== null) return true;
  if (process.env.CI === "true") throw new Error("redis-server is not on PATH, and CI=true requires it");
  console.warn("skipping the Redis restart test: redis-server is not on PATH");
  return false;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), "parley-mp-redis-"));
  let proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  let output = "";
  let starts = 0;
  // Kill and start never overlap, whoever calls them: each waits for the previous one to finish.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(step: () => Promise<T>): Promise<T> => {
    const next = queue.then(step);
    queue = next.catch(() => {});
    return next;
  };
  // If the test runner exits without afterAll (a crash, an interrupt), the server must not outlive it.
  const onExit = () => proc?.kill("SIGKILL");
  process.on("exit", onExit);

  const launch = async (port: number): Promise<void> => {
    output = "";
    const child = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--daemonize",
        "no",
      ],
      { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    proc = child;
    starts++;
    void collect(child.stdout, (text) => {
      output = (output + text).slice(-OUTPUT_KEEP_CHARS);
    });
    void collect(child.stderr, (text) => {
      output = (output + text).slice(-OUTPUT_KEEP_CHARS);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await child.exited;
        throw new Error(`redis-server on port ${port} exited with ${child.exitCode}:\n${output}`);
      }
      if (await answersPing(port)) return;
      await Bun.sleep(20);
    }
    child.kill("SIGKILL");
    await child.exited;
    throw new Error(
      `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output}`,
    );
  };

  const kill = async (): Promise<void> => {
    const child = proc;
    if (child === null) return;
    child.kill("SIGKILL");
    await child.exited;
    proc = null;
  };

  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS && proc === null; attempt++) {
    port = await freePort();
    try {
      await launch(port);
    } catch (e) {
      proc = null;
      lastError = e;
    }
  }
  if (proc === null) {
    process.off("exit", onExit);
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  const start = () => serialized(() => (proc === null ? launch(port) : Promise.resolve()));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    starts: () => starts,
    kill: () => serialized(kill),
    start,
    restart: () =>
      serialized(async () => {
        await kill();
        await launch(port);
      }),
    stop: () =>
      serialized(async () => {
        await kill();
        process.off("exit", onExit);
        await rm(dir, { recursive: true, force: true });
      }),
  };
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    sink(decoder.decode(value, { stream: true }));
  }
}

/** One PING over a fresh connection; false on any error or on no PONG within a second. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      reply += data.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}
