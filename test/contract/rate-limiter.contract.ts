/**
 * The contracts of the two limit ports, RateLimiter (fixed windows) and TokenBucket, which every adapter passes.
 * `open()` may be called twice in one test: handles from one harness share their counters (two processes on
 * one Redis, or one in-process instance), so atomicity across processes is part of the contract.
 */
import { describe, expect, test } from "bun:test";
import type { Clock } from "../../src/ports/clock.ts";
import type { RateLimiter, TokenBucket } from "../../src/ports/rate-limiter.ts";

export interface RateLimiterHarness {
  open(): Promise<RateLimiter> | RateLimiter;
  /** A window the adapter can time for real (Redis) or by clock (memory); hits within a test fit in it. */
  readonly windowMs: number;
  /** Lets `ms` pass for the adapter. */
  advance(ms: number): Promise<void>;
}

let counter = 0;
const freshKey = (label: string) => `${label}:${Date.now().toString(36)}:${++counter}`;

export function rateLimiterContract(name: string, harness: RateLimiterHarness): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const { windowMs } = harness;

    test("hits count up within a window, which ends windowMs after the first hit", async () => {
      const limiter = await harness.open();
      const key = freshKey("count");
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await limiter.hit(key, windowMs);
        counts.push(r.count);
        expect(r.resetInMs).toBeGreaterThan(0);
        expect(r.resetInMs).toBeLessThanOrEqual(windowMs);
      }
      expect(counts).toEqual([1, 2, 3]);
    });

    test("N concurrent hits from two processes produce the counts 1..N exactly", async () => {
      const [a, b] = [await harness.open(), await harness.open()];
      const key = freshKey("concurrent");
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).hit(key, windowMs)),
      );
      const counts = results.map((r) => r.count).sort((x, y) => x - y);
      expect(counts).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect((await a.peek(key)).count).toBe(60);
    });

    test("keys are independent", async () => {
      const limiter = await harness.open();
      const [k1, k2] = [freshKey("k1"), freshKey("k2")];
      await limiter.hit(k1, windowMs);
      await limiter.hit(k1, windowMs);
      expect((await limiter.hit(k2, windowMs)).count).toBe(1);
      expect((await limiter.peek(k1)).count).toBe(2);
    });

    test("peek reports without counting, and reports zero for an unknown key", async () => {
      const limiter = await harness.open();
      const key = freshKey("peek");
      expect(await limiter.peek(key)).toEqual({ count: 0, resetInMs: 0 });
      await limiter.hit(key, windowMs);
      const first = await limiter.peek(key);
      const second = await limiter.peek(key);
      expect(first.count).toBe(1);
      expect(second.count).toBe(1);
      expect(second.resetInMs).toBeGreaterThan(0);
      expect(second.resetInMs).toBeLessThanOrEqual(windowMs);
      expect((await limiter.hit(key, windowMs)).count).toBe(2);
    });

    test("when the window ends the count starts over", async () => {
      const limiter = await harness.open();
      const key = freshKey("expiry");
      await limiter.hit(key, windowMs);
      await limiter.hit(key, windowMs);
      await harness.advance(windowMs + 50);
      expect(await limiter.peek(key)).toEqual({ count: 0, resetInMs: 0 });
      const r = await limiter.hit(key, windowMs);
      expect(r.count).toBe(1);
      expect(r.resetInMs).toBeGreaterThan(0);
    });

    test("a hit with a longer window does not extend the open window", async () => {
      const limiter = await harness.open();
      const key = freshKey("fixed");
      await limiter.hit(key, windowMs);
      const r = await limiter.hit(key, windowMs * 100);
      expect(r.count).toBe(2);
      expect(r.resetInMs).toBeLessThanOrEqual(windowMs);
    });

    test("reset forgets the key, and is idempotent", async () => {
      const [a, b] = [await harness.open(), await harness.open()];
      const key = freshKey("reset");
      await a.hit(key, windowMs);
      await a.hit(key, windowMs);
      await b.reset(key);
      await b.reset(key);
      expect(await a.peek(key)).toEqual({ count: 0, resetInMs: 0 });
      expect((await a.hit(key, windowMs)).count).toBe(1);
    });

    test("a window that is not a positive whole number of ms is refused", async () => {
      const limiter = await harness.open();
      const key = freshKey("bad");
      await expect(limiter.hit(key, 0)).rejects.toThrow(RangeError);
      await expect(limiter.hit(key, -1)).rejects.toThrow(RangeError);
      await expect(limiter.hit(key, 1.5)).rejects.toThrow(RangeError);
      expect((await limiter.peek(key)).count).toBe(0);
    });
  });
}

export interface TokenBucketHarness {
  /** Handles opened with one clock share their buckets; the adapter reads time only from that clock. */
  open(clock: Clock): Promise<TokenBucket> | TokenBucket;
}

class TestClock implements Clock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
}

export function tokenBucketContract(name: string, harness: TokenBucketHarness): void {
  describe(`TokenBucket contract: ${name}`, () => {
    const setup = async () => {
      const clock = new TestClock();
      return { clock, bucket: await harness.open(clock), key: freshKey("bucket") };
    };
    const perSecond = (capacity: number, refillPerSecond: number) => ({ capacity, refillPerSecond });

    test("a bucket starts full, drains one token per take, then refuses with the wait for the next token", async () => {
      const { bucket, key } = await setup();
      const limit = perSecond(3, 2);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await bucket.take(key, limit));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
      expect(results.map((r) => r.retryAfterMs)).toEqual([0, 0, 0, 500]);
    });

    test("tokens come back at the refill rate, fractions included, never beyond capacity", async () => {
      const { clock, bucket, key } = await setup();
      const limit = perSecond(2, 2);
      await bucket.take(key, limit);
      await bucket.take(key, limit);
      clock.t += 250; // half a token
      const early = await bucket.take(key, limit);
      expect(early).toEqual({ allowed: false, remaining: 0, retryAfterMs: 250 });
      clock.t += 250;
      expect(await bucket.take(key, limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      clock.t += 3_600_000;
      expect((await bucket.take(key, limit)).remaining).toBe(1);
    });

    test("slow rates with repeating fractions refill exactly on time", async () => {
      const { clock, bucket, key } = await setup();
      const limit = perSecond(1, 1 / 3);
      expect((await bucket.take(key, limit)).allowed).toBe(true);
      for (let i = 0; i < 5; i++) {
        clock.t += 1_000;
        expect((await bucket.take(key, limit)).allowed).toBe(false);
        clock.t += 2_000;
        expect((await bucket.take(key, limit)).allowed).toBe(true);
      }
    });

    test("a take costing several tokens is all or nothing", async () => {
      const { bucket, key } = await setup();
      const limit = perSecond(5, 1);
      expect(await bucket.take(key, limit, 4)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
      expect(await bucket.take(key, limit, 3)).toEqual({ allowed: false, remaining: 1, retryAfterMs: 2_000 });
      expect(await bucket.take(key, limit, 1)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    });

    test("of many concurrent takes from two processes, exactly as many succeed as there are tokens", async () => {
      const clock = new TestClock();
      const [a, b] = [await harness.open(clock), await harness.open(clock)];
      const key = freshKey("race");
      const limit = perSecond(10, 1);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).take(key, limit)),
      );
      expect(results.filter((r) => r.allowed).length).toBe(10);
      expect(
        results
          .filter((r) => r.allowed)
          .map((r) => r.remaining)
          .sort((x, y) => x - y),
      ).toEqual(Array.from({ length: 10 }, (_, i) => i));
    });

    test("keys are independent, and reset refills a bucket", async () => {
      const { bucket, key } = await setup();
      const other = freshKey("other");
      const limit = perSecond(1, 1);
      expect((await bucket.take(key, limit)).allowed).toBe(true);
      expect((await bucket.take(other, limit)).allowed).toBe(true);
      expect((await bucket.take(key, limit)).allowed).toBe(false);
      await bucket.reset(key);
      await bucket.reset(key);
      expect((await bucket.take(key, limit)).allowed).toBe(true);
    });

    test("a clock that steps back refills nothing and does not drain the bucket", async () => {
      const { clock, bucket, key } = await setup();
      const limit = perSecond(2, 1);
      await bucket.take(key, limit);
      clock.t -= 10_000;
      expect(await bucket.take(key, limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect((await bucket.take(key, limit)).allowed).toBe(false);
      // Time is measured from the latest instant seen, not from the stepped-back one.
      clock.t += 10_000 + 500;
      expect((await bucket.take(key, limit)).allowed).toBe(false);
      clock.t += 500;
      expect((await bucket.take(key, limit)).allowed).toBe(true);
    });

    test("a refund gives back a token a take charged", async () => {
      const { clock, bucket, key } = await setup();
      const other = await harness.open(clock); // a second process sees the refund too
      const limit = perSecond(3, 1);
      for (let i = 0; i < 3; i++) expect((await bucket.take(key, limit)).allowed).toBe(true);
      await other.refund(key, limit);
      expect(await bucket.take(key, limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(await bucket.take(key, limit)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1_000 });
    });

    test("a refund never lifts a bucket above capacity", async () => {
      const { bucket, key } = await setup();
      // A missing bucket is a full one: refunds to it neither add to it nor start it from empty.
      const three = perSecond(3, 1);
      await bucket.refund(key, three);
      await bucket.refund(key, three);
      const fresh = [];
      for (let i = 0; i < 4; i++) fresh.push((await bucket.take(key, three)).allowed);
      expect(fresh).toEqual([true, true, true, false]);

      const limit = perSecond(2, 1);

      const used = freshKey("over");
      expect((await bucket.take(used, limit)).allowed).toBe(true);
      for (let i = 0; i < 5; i++) await bucket.refund(used, limit, 1);
      const after = [];
      for (let i = 0; i < 3; i++) after.push(await bucket.take(used, limit));
      expect(after.map((r) => r.allowed)).toEqual([true, true, false]);
      expect(after.map((r) => r.remaining)).toEqual([1, 0, 0]);
    });

    test("a refund costing several tokens credits them all", async () => {
      const { bucket, key } = await setup();
      const limit = perSecond(5, 1);
      expect((await bucket.take(key, limit, 4)).remaining).toBe(1);
      await bucket.refund(key, limit, 3);
      expect(await bucket.take(key, limit)).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0 });
    });

    test("a refund adds to the tokens refilled since the last take", async () => {
      const { clock, bucket, key } = await setup();
      const limit = perSecond(2, 1);
      await bucket.take(key, limit);
      await bucket.take(key, limit);
      clock.t += 500; // half a token back
      await bucket.refund(key, limit); // 1.5 tokens
      expect(await bucket.take(key, limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      expect(await bucket.take(key, limit)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500 });
    });

    test("impossible refunds are refused like takes, without touching the bucket", async () => {
      const { bucket, key } = await setup();
      const limit = perSecond(2, 1);
      expect((await bucket.take(key, limit, 2)).allowed).toBe(true);
      await expect(bucket.refund(key, limit, 0)).rejects.toThrow(RangeError);
      await expect(bucket.refund(key, limit, 3)).rejects.toThrow(RangeError);
      await expect(bucket.refund(key, limit, -1)).rejects.toThrow(RangeError);
      await expect(bucket.refund(key, perSecond(0, 1))).rejects.toThrow(RangeError);
      await expect(bucket.refund(key, perSecond(2, 0))).rejects.toThrow(RangeError);
      await expect(bucket.refund(key, perSecond(2, Number.POSITIVE_INFINITY))).rejects.toThrow(RangeError);
      expect((await bucket.take(key, limit)).allowed).toBe(false);
    });

    test("takeEach takes a token from every bucket, or from none, naming the first one short", async () => {
      const { clock, bucket, key } = await setup();
      const room = freshKey("room");
      const sender = perSecond(3, 1);
      const roomLimit = perSecond(2, 4);
      const both = [
        { key, limit: sender },
        { key: room, limit: roomLimit },
      ];
      expect(await bucket.takeEach(both)).toEqual({ allowed: true, refused: -1, retryAfterMs: 0 });
      expect(await bucket.takeEach(both)).toEqual({ allowed: true, refused: -1, retryAfterMs: 0 });
      // The room is empty; the sender still holds one token, and keeps it.
      expect(await bucket.takeEach(both)).toEqual({ allowed: false, refused: 1, retryAfterMs: 250 });
      expect(await bucket.take(key, sender)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
      // Both empty: the first one short is named, with its own wait; the room's refill is still counted.
      clock.t += 250;
      expect(await bucket.takeEach(both)).toEqual({ allowed: false, refused: 0, retryAfterMs: 750 });
      clock.t += 750;
      expect(await bucket.takeEach(both)).toEqual({ allowed: true, refused: -1, retryAfterMs: 0 });
      // Each bucket was charged exactly what the allowed calls took: sender 3 + 1 + 1, room 2 + 1 of 2 + 4/s.
      expect((await bucket.take(key, sender)).allowed).toBe(false);
      expect(await bucket.take(room, roomLimit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    });

    test("takeEach on one bucket is take; concurrent takeEach calls from two processes never overspend", async () => {
      const clock = new TestClock();
      const [a, b] = [await harness.open(clock), await harness.open(clock)];
      const shared = freshKey("shared");
      const own = (i: number) => `${shared}:own:${i % 4}`;
      const limit = perSecond(6, 1);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 === 0 ? a : b).takeEach([
            { key: own(i), limit: perSecond(2, 1) },
            { key: shared, limit },
          ]),
        ),
      );
      // Six tokens in the shared bucket, two in each of the four own ones (8 in all): six calls get through.
      expect(results.filter((r) => r.allowed).length).toBe(6);
      const perOwn = [0, 1, 2, 3].map((k) => results.filter((r, i) => r.allowed && i % 4 === k).length);
      expect(perOwn.every((n) => n <= 2)).toBe(true);
      expect((await a.take(shared, limit)).allowed).toBe(false);
      const single = freshKey("single");
      expect(await a.takeEach([{ key: single, limit: perSecond(1, 1) }])).toEqual({
        allowed: true,
        refused: -1,
        retryAfterMs: 0,
      });
      expect(await a.takeEach([{ key: single, limit: perSecond(1, 1) }])).toEqual({
        allowed: false,
        refused: 0,
        retryAfterMs: 1_000,
      });
    });

    test("takeEach refuses no buckets, a key twice and impossible limits, touching nothing", async () => {
      const { bucket, key } = await setup();
      await expect(bucket.takeEach([])).rejects.toThrow(RangeError);
      await expect(
        bucket.takeEach([
          { key, limit: perSecond(1, 1) },
          { key, limit: perSecond(1, 1) },
        ]),
      ).rejects.toThrow(RangeError);
      await expect(
        bucket.takeEach([
          { key, limit: perSecond(1, 1) },
          { key: freshKey("bad"), limit: perSecond(1, 0) },
        ]),
      ).rejects.toThrow(RangeError);
      expect(await bucket.take(key, perSecond(1, 1))).toEqual({
        allowed: true,
        remaining: 0,
        retryAfterMs: 0,
      });
    });

    test("impossible costs and limits are refused without touching the bucket", async () => {
      const { bucket, key } = await setup();
      await expect(bucket.take(key, perSecond(2, 1), 3)).rejects.toThrow(RangeError);
      await expect(bucket.take(key, perSecond(2, 1), 0)).rejects.toThrow(RangeError);
      await expect(bucket.take(key, perSecond(0, 1))).rejects.toThrow(RangeError);
      await expect(bucket.take(key, perSecond(2, 0))).rejects.toThrow(RangeError);
      await expect(bucket.take(key, perSecond(2, Number.POSITIVE_INFINITY))).rejects.toThrow(RangeError);
      expect((await bucket.take(key, perSecond(2, 1), 2)).allowed).toBe(true);
    });
  });
}
