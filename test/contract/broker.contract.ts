/**
 * The Broker contract every adapter passes. `open()` creates one broker instance; instances created by one
 * `open` behave like separate processes on one transport. Channels are unique per test, so a suite can share a
 * transport with other suites.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Broker, BrokerErrorHook } from "../../src/ports/broker.ts";

export interface BrokerHarness {
  open(onError?: BrokerErrorHook): Promise<Broker>;
  /** Breaks `broker`'s link to the transport the way a network fault would; it must recover on its own. */
  interrupt(broker: Broker): Promise<void>;
}

const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);

/** Resolves once `check` holds; fails the test with `what` if it does not within the time limit. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** Collects one handler's deliveries as text. */
function inbox() {
  const got: string[] = [];
  return { got, handler: (payload: Uint8Array) => void got.push(text(payload)) };
}

let counter = 0;
const freshChannel = (label: string) => `${label}.${Date.now().toString(36)}.${++counter}`;

export function brokerContract(name: string, harness: BrokerHarness): void {
  describe(`Broker contract: ${name}`, () => {
    const opened: Broker[] = [];
    const open = async (onError?: BrokerErrorHook) => {
      const broker = await harness.open(onError);
      opened.push(broker);
      return broker;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });

    test("a publish on one instance reaches subscribers on every instance, with the channel name", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("fanout");
      const seen: Array<[string, string, string]> = [];
      await a.subscribe(channel, (p, ch) => void seen.push(["a", ch, text(p)]));
      await b.subscribe(channel, (p, ch) => void seen.push(["b", ch, text(p)]));
      await a.publish(channel, "hello");
      await eventually("both deliveries", () => seen.length === 2);
      expect(seen.sort()).toEqual([
        ["a", channel, "hello"],
        ["b", channel, "hello"],
      ]);
    });

    test("channels are isolated from each other", async () => {
      const [a, b] = [await open(), await open()];
      const one = freshChannel("one");
      const two = freshChannel("two");
      const inOne = inbox();
      const inTwo = inbox();
      await b.subscribe(one, inOne.handler);
      await b.subscribe(two, inTwo.handler);
      await a.publish(one, "for-one");
      await a.publish(two, "for-two");
      await eventually("both messages", () => inOne.got.length === 1 && inTwo.got.length === 1);
      expect(inOne.got).toEqual(["for-one"]);
      expect(inTwo.got).toEqual(["for-two"]);
    });

    test("handlers run asynchronously, never inside publish()", async () => {
      const a = await open();
      const channel = freshChannel("async");
      const box = inbox();
      await a.subscribe(channel, box.handler);
      const pending = a.publish(channel, "x");
      expect(box.got).toEqual([]);
      await pending;
      await eventually("the delivery", () => box.got.length === 1);
    });

    test("1,000 messages from one publisher arrive in publish order on every instance", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("order");
      const onA = inbox();
      const onB = inbox();
      await a.subscribe(channel, onA.handler);
      await b.subscribe(channel, onB.handler);
      const sent = Array.from({ length: 1000 }, (_, i) => String(i));
      await Promise.all(sent.map((m) => a.publish(channel, m)));
      await eventually("1,000 deliveries on each", () => onA.got.length === 1000 && onB.got.length === 1000);
      expect(onA.got).toEqual(sent);
      expect(onB.got).toEqual(sent);
    });

    test("binary payloads round-trip byte for byte; strings travel as UTF-8", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("binary");
      const got: Uint8Array[] = [];
      await b.subscribe(channel, (p) => void got.push(Uint8Array.from(p)));
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const invalidUtf8 = Uint8Array.of(0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a);
      const empty = new Uint8Array(0);
      const window = new Uint8Array(everyByte.buffer, 10, 5);
      for (const p of [everyByte, invalidUtf8, empty, window]) await a.publish(channel, p);
      await a.publish(channel, "héllo ✓ 😀");
      await eventually("five deliveries", () => got.length === 5);
      expect(got[0]).toEqual(everyByte);
      expect(got[1]).toEqual(invalidUtf8);
      expect(got[2]).toEqual(empty);
      expect(got[3]).toEqual(Uint8Array.of(10, 11, 12, 13, 14));
      expect(got[4]).toEqual(new TextEncoder().encode("héllo ✓ 😀"));
    });

    test("subscriptions are reference-counted: dropping one subscriber leaves the others receiving", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("refcount");
      const first = inbox();
      const second = inbox();
      const subFirst = await b.subscribe(channel, first.handler);
      await b.subscribe(channel, second.handler);
      await a.publish(channel, "m1");
      await eventually("m1 on both", () => first.got.length === 1 && second.got.length === 1);
      await subFirst.unsubscribe();
      await a.publish(channel, "m2");
      await eventually("m2 on the remaining subscriber", () => second.got.length === 2);
      expect(first.got).toEqual(["m1"]);
      expect(second.got).toEqual(["m1", "m2"]);
    });

    test("one handler subscribed twice gets each message twice, until one subscription is dropped", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("twice");
      const box = inbox();
      const s1 = await b.subscribe(channel, box.handler);
      await b.subscribe(channel, box.handler);
      await a.publish(channel, "m1");
      await eventually("two copies", () => box.got.length === 2);
      await s1.unsubscribe();
      await s1.unsubscribe(); // idempotent: must not drop the other subscription
      await a.publish(channel, "m2");
      await eventually("one more copy", () => box.got.length === 3);
      expect(box.got).toEqual(["m1", "m1", "m2"]);
    });

    test("no delivery after unsubscribe(), even for messages already on their way", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("after-unsub");
      let unsubscribed = false;
      let deliveredAfter = 0;
      const victim = await b.subscribe(channel, () => {
        if (unsubscribed) deliveredAfter++;
      });
      const witness = inbox();
      await b.subscribe(channel, (p) => {
        witness.handler(p);
        if (witness.got.length === 1) {
          unsubscribed = true;
          void victim.unsubscribe();
        }
      });
      for (let i = 0; i < 50; i++) void a.publish(channel, String(i));
      await eventually("all 50 at the witness", () => witness.got.length === 50);
      expect(unsubscribed).toBe(true);
      expect(deliveredAfter).toBe(0);
    });

    test("subscribing again after the last unsubscribe works", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("resubscribe");
      const old = inbox();
      const sub = await b.subscribe(channel, old.handler);
      await sub.unsubscribe();
      const fresh = inbox();
      await b.subscribe(channel, fresh.handler);
      await a.publish(channel, "again");
      await eventually("the delivery", () => fresh.got.length === 1);
      expect(fresh.got).toEqual(["again"]);
      expect(old.got).toEqual([]);
    });

    test("concurrent subscribe and unsubscribe on one channel settle to the last state", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("churn");
      const subs = await Promise.all(Array.from({ length: 10 }, () => b.subscribe(channel, () => {})));
      const keeper = inbox();
      await Promise.all([...subs.map((s) => s.unsubscribe()), b.subscribe(channel, keeper.handler)]);
      await a.publish(channel, "still-here");
      await eventually("the delivery to the keeper", () => keeper.got.length === 1);
    });

    test("a throwing handler is reported and disturbs neither other handlers nor later messages", async () => {
      const errors: unknown[] = [];
      const a = await open();
      const b = await open((e) => void errors.push(e));
      const channel = freshChannel("throws");
      await b.subscribe(channel, () => {
        throw new Error("handler bug");
      });
      const box = inbox();
      await b.subscribe(channel, box.handler);
      await a.publish(channel, "m1");
      await a.publish(channel, "m2");
      await eventually("both messages", () => box.got.length === 2);
      expect(box.got).toEqual(["m1", "m2"]);
      await eventually("both errors reported", () => errors.length === 2);
      expect(String(errors[0])).toContain("handler bug");
    });

    test("after an interruption, onResync fires with subscriptions restored, and delivery resumes", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("resync");
      const box = inbox();
      await b.subscribe(channel, box.handler);
      let resyncs = 0;
      let removedCalls = 0;
      b.onResync(() => resyncs++);
      const remove = b.onResync(() => removedCalls++);
      remove();
      await a.publish(channel, "before");
      await eventually("the first delivery", () => box.got.length === 1);

      await harness.interrupt(b);
      await eventually("onResync", () => resyncs >= 1);
      // The port promises subscriptions are active again when onResync runs: a publish now must arrive.
      await a.publish(channel, "after");
      await eventually("delivery after the resync", () => box.got.includes("after"));
      expect(box.got[0]).toBe("before");
      expect(removedCalls).toBe(0);

      // A subscription made after the recovery works too.
      const lateChannel = freshChannel("late");
      const late = inbox();
      await b.subscribe(lateChannel, late.handler);
      await a.publish(lateChannel, "late");
      await eventually("delivery on a new subscription", () => late.got.length === 1);
    });

    test("close() stops delivery, rejects further use, is idempotent, and leaves other instances working", async () => {
      const [a, b] = [await open(), await open()];
      const channel = freshChannel("close");
      const onA = inbox();
      const onB = inbox();
      await a.subscribe(channel, onA.handler);
      await b.subscribe(channel, onB.handler);
      await b.close();
      await b.close();
      await expect(b.publish(channel, "x")).rejects.toThrow();
      await expect(b.subscribe(channel, () => {})).rejects.toThrow();
      await a.publish(channel, "after-close");
      await eventually("delivery on the open instance", () => onA.got.length === 1);
      // A bounded wait for something that must never happen: b's copy would travel as fast as a's.
      await Bun.sleep(20);
      expect(onB.got).toEqual([]);
    });
  });
}
