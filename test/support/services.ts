/**
 * Reachability of the real services the suite talks to. Under CI=true an unreachable service is a failure
 * (the caller throws); elsewhere the dependent tests are skipped with one line saying why.
 */
import { connect } from "node:net";

export const PG_URL = process.env.PARLEY_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function require(name: string, url: string, port: number): Promise<boolean> {
  if (await reachable(url, port)) return true;
  if (process.env.CI === "true") throw new Error(`${name} is not reachable at ${url}, and CI=true requires it`);
  console.warn(`skipping ${name} tests: ${name} is not reachable at ${url}`);
  return false;
}

export const postgresAvailable = (): Promise<boolean> => require("PostgreSQL", PG_URL, 5432);
export const redisAvailable = (): Promise<boolean> => require("Redis", REDIS_URL, 6379);
