/**
 * The Presence contract every adapter passes. `open(clock)` returns a handle on the presence state that belongs
 * to that clock: calling it twice with one clock gives two handles on one shared state (two processes on one
 * Redis, or the same in-process instance), so cross-process behaviour is part of the contract. Each test makes
 * a new clock, so tests never see each other's entries.
 */
import { describe, expect, test } from "bun:test";
import type { Clock } from "../../src/ports/clock.ts";
import type { Presence } from "../../src/ports/presence.ts";

export class FakeClock implements Clock {
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/**
 * Every user `list` gives for the room, read page after page of two: each test that reads a room through it
 * also checks that pages follow each other without a gap or a repeat.
 */
export async function everyone(p: Presence, room: string): Promise<string[]> {
  const all: string[] = [];
  for (;;) {
    const page = await p.list(room, all.at(-1) ?? null, 2);
    expect(page.length).toBeLessThanOrEqual(2);
    all.push(...page);
    if (page.length < 2) return all;
  }
}

let counter = 0;
const freshRoom = (label: string) => `${label}-${Date.now().toString(36)}-${++counter}`;

export function presenceContract(
  name: string,
  open: (clock: FakeClock) => Promise<Presence> | Presence,
): void {
  describe(`Presence contract: ${name}`, () => {
    const setup = async () => {
      const clock = new FakeClock();
      return { clock, p: await open(clock), room: freshRoom("room") };
    };

    test("an empty room lists nobody", async () => {
      const { p, room } = await setup();
      expect(await everyone(p, room)).toEqual([]);
      expect(await p.count(room)).toBe(0);
    });

    test("joined users are listed once each, in ascending order, however many connections they have", async () => {
      const { p, room } = await setup();
      await p.join(room, "carol", "c1", 30_000);
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "alice", "a2", 30_000);
      await p.join(room, "bob", "b1", 30_000);
      expect(await everyone(p, room)).toEqual(["alice", "bob", "carol"]);
      expect(await p.count(room)).toBe(3);
    });

    test("a user stays present until their last connection leaves", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "alice", "a2", 30_000);
      await p.leave(room, "alice", "a1");
      expect(await everyone(p, room)).toEqual(["alice"]);
      await p.leave(room, "alice", "a2");
      expect(await everyone(p, room)).toEqual([]);
      expect(await p.count(room)).toBe(0);
    });

    test("leave resolves to whether the user is still present: another live connection, not an expired one", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "alice", "a2", 30_000);
      await p.join(room, "alice", "brief", 1_000);
      await p.join(room, "bob", "b1", 30_000);
      expect(await p.leave(room, "alice", "a1")).toBe(true);
      clock.advance(1_000);
      // "brief" has expired: a2 is what keeps alice present, so leaving it leaves her offline (bob is unrelated).
      expect(await p.leave(room, "alice", "a2")).toBe(false);
      expect(await everyone(p, room)).toEqual(["bob"]);
      expect(await p.leave(room, "alice", "a2")).toBe(false);
      expect(await p.leave(freshRoom("none"), "bob", "b1")).toBe(false);
    });

    test("leave is idempotent and ignores unknown rooms, users and connections", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.leave(room, "alice", "nope");
      await p.leave(room, "nobody", "x");
      await p.leave(freshRoom("empty"), "alice", "a1");
      expect(await everyone(p, room)).toEqual(["alice"]);
      await p.leave(room, "alice", "a1");
      await p.leave(room, "alice", "a1");
      expect(await everyone(p, room)).toEqual([]);
    });

    test("rooms are independent", async () => {
      const { p, room } = await setup();
      const other = freshRoom("other");
      await p.join(room, "alice", "a1", 30_000);
      await p.join(other, "bob", "b1", 30_000);
      await p.leave(other, "alice", "a1");
      expect(await everyone(p, room)).toEqual(["alice"]);
      expect(await everyone(p, other)).toEqual(["bob"]);
    });

    test("an entry not refreshed within its TTL disappears (present while expiry > now)", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "a1", 1_000);
      clock.advance(999);
      expect(await everyone(p, room)).toEqual(["alice"]);
      clock.advance(1);
      expect(await everyone(p, room)).toEqual([]);
      expect(await p.count(room)).toBe(0);
    });

    test("a user with one live connection stays present while another connection expires", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "short", 1_000);
      await p.join(room, "alice", "long", 5_000);
      clock.advance(2_000);
      expect(await everyone(p, room)).toEqual(["alice"]);
      clock.advance(3_000);
      expect(await everyone(p, room)).toEqual([]);
    });

    test("leaving the longest-lived connection lets the user expire with the remaining one", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "short", 1_000);
      await p.join(room, "alice", "long", 5_000);
      await p.leave(room, "alice", "long");
      clock.advance(999);
      expect(await p.count(room)).toBe(1);
      clock.advance(1);
      expect(await p.count(room)).toBe(0);
    });

    test("joining again replaces the connection's expiry, also with a shorter TTL", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "a1", 5_000);
      await p.join(room, "alice", "a1", 1_000);
      clock.advance(1_000);
      expect(await everyone(p, room)).toEqual([]);
    });

    test("refresh extends one connection in every listed room, and recreates expired entries", async () => {
      const { clock, p, room } = await setup();
      const other = freshRoom("other");
      await p.join(room, "alice", "a1", 1_000);
      await p.join(other, "alice", "a1", 1_000);
      clock.advance(800);
      await p.refresh([room, other], "alice", "a1", 1_000);
      clock.advance(800);
      expect(await everyone(p, room)).toEqual(["alice"]);
      expect(await everyone(p, other)).toEqual(["alice"]);
      clock.advance(200);
      expect(await everyone(p, room)).toEqual([]);
      await p.refresh([room], "alice", "a1", 1_000);
      expect(await everyone(p, room)).toEqual(["alice"]);
      await p.refresh([], "alice", "a1", 1_000);
    });

    test("many refreshes made at once each extend their own connection (a process's refresh tick)", async () => {
      const { clock, p, room } = await setup();
      const other = freshRoom("other");
      const users = Array.from({ length: 60 }, (_, i) => `u${String(i).padStart(2, "0")}`);
      await Promise.all(users.map((u) => p.join(room, u, "c1", 1_000)));
      clock.advance(800);
      // Not awaited one by one: all are asked for in one turn, as PresenceTracker's tick does.
      const refreshed = users.filter((_, i) => i % 3 !== 0);
      await Promise.all(
        refreshed.map((u, i) => p.refresh(i % 2 === 0 ? [room, other] : [room], u, "c1", 1_000)),
      );
      clock.advance(800);
      expect(await everyone(p, room)).toEqual(refreshed);
      expect(await everyone(p, other)).toEqual(refreshed.filter((_, i) => i % 2 === 0));
    });

    test("a leave made right after a refresh, in the same turn, is not undone by it", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "bob", "b1", 30_000);
      const refreshes = [p.refresh([room], "alice", "a1", 30_000), p.refresh([room], "bob", "b1", 30_000)];
      const left = p.leave(room, "alice", "a1");
      await Promise.all(refreshes);
      expect(await left).toBe(false);
      expect(await everyone(p, room)).toEqual(["bob"]);
      // And the other way round: a join after a refresh of the same turn is what stays.
      const again = [p.refresh([room], "bob", "b1", 30_000), p.join(room, "alice", "a1", 30_000)];
      await Promise.all(again);
      expect(await everyone(p, room)).toEqual(["alice", "bob"]);
    });

    test("two handles on one state see each other's joins and leaves (processes on one backend)", async () => {
      const clock = new FakeClock();
      const room = freshRoom("shared");
      const a = await open(clock);
      const b = await open(clock);
      await a.join(room, "alice", "a1", 30_000);
      await b.join(room, "bob", "b1", 30_000);
      await b.join(room, "alice", "a2", 30_000);
      expect(await everyone(a, room)).toEqual(["alice", "bob"]);
      expect(await b.count(room)).toBe(2);
      await b.leave(room, "alice", "a1");
      expect(await everyone(a, room)).toEqual(["alice", "bob"]);
      await a.leave(room, "alice", "a2");
      expect(await everyone(b, room)).toEqual(["bob"]);
    });

    test("concurrent joins and leaves of many connections end in the expected set", async () => {
      const { p, room } = await setup();
      const users = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, "0")}`);
      await Promise.all(users.flatMap((u) => [p.join(room, u, "c1", 30_000), p.join(room, u, "c2", 30_000)]));
      const leaving = users.filter((_, i) => i % 2 === 0);
      await Promise.all(leaving.flatMap((u) => [p.leave(room, u, "c1"), p.leave(room, u, "c2")]));
      expect(await everyone(p, room)).toEqual(users.filter((_, i) => i % 2 === 1));
      expect(await p.count(room)).toBe(20);
    });

    test("list reads a page: at most `limit` ids above `after` (exclusive), ascending", async () => {
      const { p, room } = await setup();
      const users = ["u1", "u2", "u3", "u4", "u5"];
      await Promise.all([...users].reverse().map((u) => p.join(room, u, "c1", 30_000)));
      expect(await p.list(room, null, 3)).toEqual(["u1", "u2", "u3"]);
      expect(await p.list(room, "u3", 3)).toEqual(["u4", "u5"]);
      expect(await p.list(room, "u5", 3)).toEqual([]);
      // A cursor need not be a present user: the page starts after where it would sort.
      expect(await p.list(room, "u2a", 2)).toEqual(["u3", "u4"]);
      expect(await p.list(room, "", 1)).toEqual(["u1"]);
      expect(await p.list(room, null, 100)).toEqual(users);
      expect(await p.list(freshRoom("empty"), null, 10)).toEqual([]);
    });

    test("pages over users joined in no particular order give each user once, in order", async () => {
      const { p, room } = await setup();
      const users = Array.from({ length: 150 }, (_, i) => `u${String((i * 37) % 150).padStart(3, "0")}`);
      await Promise.all(users.map((u) => p.join(room, u, "c1", 30_000)));
      const read: string[] = [];
      for (
        let page = await p.list(room, null, 7);
        page.length > 0;
        page = await p.list(room, read.at(-1) ?? null, 7)
      )
        read.push(...page);
      expect(read).toEqual([...users].sort());
      expect(await p.count(room)).toBe(150);
    });

    test("a page skips users who expired or left and still fills up from the users after them", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "u1", "c1", 30_000);
      await p.join(room, "u2", "c1", 1_000);
      await p.join(room, "u3", "c1", 1_000);
      await p.join(room, "u4", "c1", 30_000);
      await p.join(room, "u5", "c1", 30_000);
      await p.leave(room, "u4", "c1");
      clock.advance(1_000);
      expect(await p.list(room, null, 2)).toEqual(["u1", "u5"]);
      expect(await p.count(room)).toBe(2);
      // Back again: listed again, in its place.
      await p.join(room, "u3", "c2", 30_000);
      expect(await p.list(room, "u1", 5)).toEqual(["u3", "u5"]);
    });

    test("a page size that is not a positive integer is refused", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      for (const bad of [0, -1, 1.5, Number.NaN])
        await expect(p.list(room, null, bad)).rejects.toThrow(RangeError);
    });

    test("a TTL that is not positive is refused", async () => {
      const { p, room } = await setup();
      await expect(p.join(room, "alice", "a1", 0)).rejects.toThrow(RangeError);
      await expect(p.refresh([room], "alice", "a1", -5)).rejects.toThrow(RangeError);
      await expect(p.join(room, "alice", "a1", Number.NaN)).rejects.toThrow(RangeError);
      expect(await everyone(p, room)).toEqual([]);
    });
  });
}
