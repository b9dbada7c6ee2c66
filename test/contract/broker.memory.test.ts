import { describe, expect, test } from "bun:test";
import { memoryBroker, memoryHub } from "../../src/adapters/broker/memory-broker.ts";
import { brokerContract, eventually } from "./broker.contract.ts";

const hub = memoryHub();

brokerContract("memory", {
  open: async (onError) => memoryBroker(onError === undefined ? { hub } : { hub, onError }),
  interrupt: async () => hub.resync(),
});

describe("memoryBroker", () => {
  test("brokers on separate hubs do not see each other", async () => {
    const a = memoryBroker();
    const b = memoryBroker();
    const got: string[] = [];
    await a.subscribe("c", (p) => void got.push(`a:${new TextDecoder().decode(p)}`));
    await b.subscribe("c", (p) => void got.push(`b:${new TextDecoder().decode(p)}`));
    await a.publish("c", "from-a");
    await b.publish("c", "from-b");
    await eventually("two deliveries", () => got.length === 2);
    expect(got.sort()).toEqual(["a:from-a", "b:from-b"]);
    await Promise.all([a.close(), b.close()]);
  });

  test("a published buffer is copied: changing it afterwards does not change what subscribers get", async () => {
    const broker = memoryBroker();
    const got: Uint8Array[] = [];
    await broker.subscribe("c", (p) => void got.push(p));
    const payload = Uint8Array.of(1, 2, 3);
    await broker.publish("c", payload);
    payload[0] = 9;
    await eventually("the delivery", () => got.length === 1);
    expect(got[0]).toEqual(Uint8Array.of(1, 2, 3));
    await broker.close();
  });
});
