import { describe, expect, test } from "bun:test";
import { useServerPair } from "../support/server.ts";
import { postgresAvailable, redisAvailable } from "../support/services.ts";
import { StompTestClient } from "../support/stomp-client.ts";
import {
  type Account,
  type Client,
  client,
  createRoom,
  expectStatus,
  send,
  signup,
  useTestServer,
} from "./helpers.ts";

const roomDest = (id: string) => `/sub/chat/room/${id}`;

interface Scene {
  readonly sender: Account;
  readonly roomId: string;
  readonly listener: StompTestClient;
  /** The `sender` field of every message event the listener has seen so far, in order. */
  senders(): unknown[];
}

/**
 * A sender named "Old Name" and a listener in one room, subscribed through `wsUrl`; one message is sent through
 * `api` first, so the sending process has the old name cached when the rename comes.
 */
async function scene(api: Client, wsUrl: string): Promise<Scene> {
  const sender = await signup(api, "ren", { displayName: "Old Name" });
  const other = await signup(api, "lis");
  const room = await createRoom(api, sender, "Renames", [other.user.id]);
  const listener = await StompTestClient.connect(wsUrl, other.accessToken);
  await listener.subscribeWithReceipt(roomDest(room.id), "s");
  await send(api, sender, room.id, "before");
  await listener.waitForMessages("s", 1);
  const senders = () =>
    listener
      .messages("s")
      .filter((e) => e.type === "message")
      .map((e) => e.sender);
  expect(senders()).toEqual(["Old Name"]);
  return { sender, roomId: room.id, listener, senders };
}

describe("a rename and the sender name of the next messages (one process)", () => {
  const env = useTestServer();

  /** Renames the scene's sender to `displayName` (expecting `status`) and sends once more: the senders seen. */
  async function renameThenSend(displayName: string, status: number): Promise<unknown[]> {
    const s = await scene(env.api, env.server.wsUrl);
    expectStatus(await env.api.patch("/me", { displayName }, s.sender.accessToken), status);
    await send(env.api, s.sender, s.roomId, "after");
    await s.listener.waitForMessages("s", 2);
    s.listener.close();
    return s.senders();
  }

  test("the next message after PATCH /me shows the new name, though the old one was cached", async () => {
    expect(await renameThenSend("New Name", 200)).toEqual(["Old Name", "New Name"]);
  });

  test("a PATCH /me that is refused changes no sender name", async () => {
    expect(await renameThenSend("   ", 400)).toEqual(["Old Name", "Old Name"]);
  });
});

const available = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!available)(
  "a rename and the sender name of the next messages (two servers over Redis)",
  () => {
    const pair = useServerPair();

    test("renamed through one server, the other shows the new name within moments, not after its cache expires", async () => {
      const apiOne = client(pair.one.api);
      const apiTwo = client(pair.two.api);
      // Messages go through server two, which caches the old name with the first one.
      const s = await scene(apiTwo, pair.two.wsUrl);
      expectStatus(await apiOne.patch("/me", { displayName: "New Name" }, s.sender.accessToken), 200);
      // The announcement crosses Redis on its own time: send until a message shows the new name (names are cached
      // for 10 minutes, so without it none would here).
      const deadline = Date.now() + 3000;
      let sent = 1;
      while (!s.senders().includes("New Name") && Date.now() < deadline) {
        await send(apiTwo, s.sender, s.roomId, `after ${sent}`);
        sent++;
        await s.listener.waitForMessages("s", sent);
        // Well inside the sender's rate limit (10 a second by default).
        await Bun.sleep(150);
      }
      const names = s.senders();
      expect(names.at(-1)).toBe("New Name");
      // Once shown, never the old one again.
      expect(names.slice(names.indexOf("New Name"))).not.toContain("Old Name");
      s.listener.close();
    });
  },
);
