import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type RedisCluster,
  redisClusterToolsAvailable,
  startRedisCluster,
} from "../support/redis-cluster.ts";
import { startServerPair, type TestServer } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { bodyJson, header, StompTestClient } from "../support/stomp-client.ts";
import { type Client, client, createRoom, signup } from "./helpers.ts";

const available = redisClusterToolsAvailable() && (await postgresAvailable()) && (await redisAvailable());

/** Two servers whose broker is a real 3-master Redis Cluster (sharded pub/sub routed by slot). */
describe.skipIf(!available)("real-time over a Redis Cluster broker (two servers)", () => {
  let cluster: RedisCluster;
  let one: TestServer;
  let two: TestServer;
  let api: Client;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const redisClusterNodes = cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
    ({ one, two } = await startServerPair({ redisClusterNodes }));
    api = client(one.api);
  }, 60_000);
  afterAll(async () => {
    await two?.stop();
    await one?.stop();
    await cluster?.stop();
  });

  test("messages of many rooms (spread over the masters) cross servers in order, each exactly once", async () => {
    const a = await signup(api, "cl");
    const b = await signup(api, "cl");
    const rooms = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createRoom(api, a, `C${i}`, [b.user.id])),
    );
    const sender = await StompTestClient.connect(one.wsUrl, a.accessToken);
    const receiver = await StompTestClient.connect(two.wsUrl, b.accessToken);
    for (const [i, r] of rooms.entries())
      await receiver.subscribeWithReceipt(`/sub/chat/room/${r.id}`, `s${i}`);
    for (let n = 0; n < 5; n++) {
      await Promise.all(
        rooms.map((r) => sender.sendWithReceipt("/pub/message", { roomId: r.id, message: `m${n}` })),
      );
    }
    for (const [i] of rooms.entries()) {
      await receiver.waitFor((f) => header(f, "subscription") === `s${i}` && header(f, "seq") === "5", 5000);
      const seqs = receiver
        .framesOf(`s${i}`)
        .filter((f) => header(f, "seq") !== undefined)
        .map((f) => Number(header(f, "seq")));
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      expect(bodyJson(receiver.framesOf(`s${i}`).find((f) => header(f, "seq") === "1")!)).toMatchObject({
        message: "m0",
      });
    }
    sender.close();
    receiver.close();
  });
});
