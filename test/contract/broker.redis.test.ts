import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { connect, createServer, type Socket } from "node:net";
import { Redis } from "ioredis";
import { redisBroker } from "../../src/adapters/broker/redis-broker.ts";
import type { Broker } from "../../src/ports/broker.ts";
import { REDIS_URL, redisAvailable } from "../support/services.ts";
import { brokerContract, eventually } from "./broker.contract.ts";

const run = `${process.pid}-${Date.now().toString(36)}`;

/**
 * A TCP proxy to Redis whose open connections can be frozen: bytes stop flowing both ways but nothing is
 * closed, which is what a vanished peer or a dropped NAT entry looks like. New connections flow normally.
 */
async function freezableProxy(target: string) {
  const { hostname, port } = new URL(target);
  const pairs = new Set<{ frozen: boolean; client: Socket; upstream: Socket }>();
  const server = createServer((client) => {
    const upstream = connect(Number(port || 6379), hostname);
    const pair = { frozen: false, client, upstream };
    pairs.add(pair);
    client.on("data", (d) => void (pair.frozen || upstream.write(d)));
    upstream.on("data", (d) => void (pair.frozen || client.write(d)));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    freeze: () => {
      for (const pair of pairs) pair.frozen = true;
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.skipIf(!(await redisAvailable()))("redisBroker", () => {
  const admin = new Redis(REDIS_URL);
  afterAll(() => admin.quit());

  /** Kills this process's connection named `name` (pub/sub connections are gone from CLIENT LIST once killed). */
  async function kill(name: string): Promise<void> {
    const list = String(await admin.call("CLIENT", "LIST"));
    const line = list.split("\n").find((l) => l.includes(` name=${name} `));
    const id = line?.match(/^id=(\d+) /)?.[1];
    if (id === undefined) throw new Error(`no connection named ${name}`);
    await admin.call("CLIENT", "KILL", "ID", id);
  }

  for (const sharded of [false, true]) {
    const mode = sharded ? "sharded" : "plain";
    const prefix = `parley-test:${run}:${mode}:`;
    const names = new Map<Broker, string>();
    let opened = 0;
    const open = async (onError?: (e: unknown) => void) => {
      const connectionName = `parley-test-${run}-${mode}-${++opened}`;
      const broker = await redisBroker({
        url: REDIS_URL,
        prefix,
        sharded,
        connectionName,
        onError: onError ?? (() => {}),
      });
      names.set(broker, connectionName);
      return broker;
    };

    brokerContract(`redis (${mode})`, {
      open,
      interrupt: async (broker) => kill(`${names.get(broker)}:sub`),
    });

    describe(`redis specifics (${mode})`, () => {
      const opened: Broker[] = [];
      const track = async () => {
        const b = await open();
        opened.push(b);
        return b;
      };
      afterEach(async () => {
        await Promise.all(opened.splice(0).map((b) => b.close()));
      });

      const numsub = async (channel: string): Promise<number> => {
        const reply = (await admin.call(
          "PUBSUB",
          sharded ? "SHARDNUMSUB" : "NUMSUB",
          `${prefix}ch:${channel}`,
        )) as [string, number];
        return Number(reply[1]);
      };

      test("many local subscribers share one server subscription per process, dropped with the last", async () => {
        const [a, b] = [await track(), await track()];
        const channel = `numsub-${Date.now()}`;
        const subs = await Promise.all([1, 2, 3].map(() => a.subscribe(channel, () => {})));
        expect(await numsub(channel)).toBe(1);
        const other = await b.subscribe(channel, () => {});
        expect(await numsub(channel)).toBe(2);
        await subs[0]?.unsubscribe();
        await subs[1]?.unsubscribe();
        expect(await numsub(channel)).toBe(2);
        await subs[2]?.unsubscribe();
        expect(await numsub(channel)).toBe(1);
        await other.unsubscribe();
        expect(await numsub(channel)).toBe(0);
      });

      test("a failed publish is reported to the caller, and every process is then told to resync", async () => {
        const [a, b] = [await track(), await track()];
        const channel = `pubfail-${Date.now()}`;
        const got: string[] = [];
        await b.subscribe(channel, (p) => void got.push(new TextDecoder().decode(p)));
        let resyncsA = 0;
        let resyncsB = 0;
        a.onResync(() => resyncsA++);
        b.onResync(() => resyncsB++);

        await kill(`${names.get(a)}:pub`);
        // The connection is gone on the server: this publish cannot be accepted, whether the client has noticed
        // the close yet (rejected at once) or not (rejected when the close arrives).
        await expect(a.publish(channel, "lost")).rejects.toThrow();
        await eventually("the resync notice on b", () => resyncsB >= 1, 5000);
        await eventually("the resync notice on a itself", () => resyncsA >= 1, 5000);

        await eventually(
          "a working publisher again",
          () => {
            void a.publish(channel, "after").catch(() => {});
            return got.includes("after");
          },
          5000,
        );
        expect(got).not.toContain("lost");
      });

      test("a subscriber connection lost twice in a row recovers and resyncs each time", async () => {
        const [a, b] = [await track(), await track()];
        const channel = `twice-${Date.now()}`;
        const got: string[] = [];
        await b.subscribe(channel, (p) => void got.push(new TextDecoder().decode(p)));
        let resyncs = 0;
        b.onResync(() => resyncs++);
        for (const round of [1, 2]) {
          await kill(`${names.get(b)}:sub`);
          await eventually(`resync ${round}`, () => resyncs === round, 5000);
          await a.publish(channel, `round-${round}`);
          await eventually(`delivery in round ${round}`, () => got.includes(`round-${round}`));
        }
      });

      test("a subscriber connection that silently stops answering is replaced, then onResync fires", async () => {
        const proxy = await freezableProxy(REDIS_URL);
        try {
          const a = await track();
          const b = await redisBroker({
            url: proxy.url,
            prefix,
            sharded,
            healthCheckIntervalMs: 50,
            onError: () => {},
          });
          opened.push(b);
          const channel = `frozen-sub-${Date.now()}`;
          const got: string[] = [];
          await b.subscribe(channel, (p) => void got.push(new TextDecoder().decode(p)));
          let resyncs = 0;
          b.onResync(() => resyncs++);
          proxy.freeze();
          await a.publish(channel, "into-the-void");
          await eventually("onResync after the silent failure", () => resyncs >= 1, 5000);
          await a.publish(channel, "after");
          await eventually("delivery on the new connection", () => got.includes("after"));
          expect(got).not.toContain("into-the-void");
        } finally {
          await proxy.close();
        }
      });

      test("a publish on a connection that silently stops answering rejects, and a resync notice follows", async () => {
        const proxy = await freezableProxy(REDIS_URL);
        try {
          const a = await redisBroker({
            url: proxy.url,
            prefix,
            sharded,
            healthCheckIntervalMs: 50,
            onError: () => {},
          });
          opened.push(a);
          const b = await track();
          const channel = `frozen-pub-${Date.now()}`;
          const got: string[] = [];
          await b.subscribe(channel, (p) => void got.push(new TextDecoder().decode(p)));
          let resyncs = 0;
          b.onResync(() => resyncs++);
          proxy.freeze();
          await expect(a.publish(channel, "stuck")).rejects.toThrow();
          await eventually("the resync notice", () => resyncs >= 1, 5000);
          await a.publish(channel, "after");
          await eventually("delivery from the new connection", () => got.includes("after"));
        } finally {
          await proxy.close();
        }
      });

      test("opening against an unreachable server rejects", async () => {
        await expect(
          redisBroker({ url: "redis://127.0.0.1:1", prefix, sharded, onError: () => {} }),
        ).rejects.toThrow();
      });
    });
  }
});
