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
      expect(await p.list(room)).toEqual([]);
      expect(await p.count(room)).toBe(0);
    });

    test("joined users are listed once each, in ascending order, however many connections they have", async () => {
      const { p, room } = await setup();
      await p.join(room, "carol", "c1", 30_000);
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "alice", "a2", 30_000);
      await p.join(room, "bob", "b1", 30_000);
      expect(await p.list(room)).toEqual(["alice", "bob", "carol"]);
      expect(await p.count(room)).toBe(3);
    });

    test("a user stays present until their last connection leaves", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "alice", "a2", 30_000);
      await p.leave(room, "alice", "a1");
      expect(await p.list(room)).toEqual(["alice"]);
      await p.leave(room, "alice", "a2");
      expect(await p.list(room)).toEqual([]);
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
      expect(await p.list(room)).toEqual(["bob"]);
      expect(await p.leave(room, "alice", "a2")).toBe(false);
      expect(await p.leave(freshRoom("none"), "bob", "b1")).toBe(false);
    });

    test("leave is idempotent and ignores unknown rooms, users and connections", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.leave(room, "alice", "nope");
      await p.leave(room, "nobody", "x");
      await p.leave(freshRoom("empty"), "alice", "a1");
      expect(await p.list(room)).toEqual(["alice"]);
      await p.leave(room, "alice", "a1");
      await p.leave(room, "alice", "a1");
      expect(await p.list(room)).toEqual([]);
    });

    test("rooms are independent", async () => {
      const { p, room } = await setup();
      const other = freshRoom("other");
      await p.join(room, "alice", "a1", 30_000);
      await p.join(other, "bob", "b1", 30_000);
      await p.leave(other, "alice", "a1");
      expect(await p.list(room)).toEqual(["alice"]);
      expect(await p.list(other)).toEqual(["bob"]);
    });

    test("an entry not refreshed within its TTL disappears (present while expiry > now)", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "a1", 1_000);
      clock.advance(999);
      expect(await p.list(room)).toEqual(["alice"]);
      clock.advance(1);
      expect(await p.list(room)).toEqual([]);
      expect(await p.count(room)).toBe(0);
    });

    test("a user with one live connection stays present while another connection expires", async () => {
      const { clock, p, room } = await setup();
      await p.join(room, "alice", "short", 1_000);
      await p.join(room, "alice", "long", 5_000);
      clock.advance(2_000);
      expect(await p.list(room)).toEqual(["alice"]);
      clock.advance(3_000);
      expect(await p.list(room)).toEqual([]);
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
      expect(await p.list(room)).toEqual([]);
    });

    test("refresh extends one connection in every listed room, and recreates expired entries", async () => {
      const { clock, p, room } = await setup();
      const other = freshRoom("other");
      await p.join(room, "alice", "a1", 1_000);
      await p.join(other, "alice", "a1", 1_000);
      clock.advance(800);
      await p.refresh([room, other], "alice", "a1", 1_000);
      clock.advance(800);
      expect(await p.list(room)).toEqual(["alice"]);
      expect(await p.list(other)).toEqual(["alice"]);
      clock.advance(200);
      expect(await p.list(room)).toEqual([]);
      await p.refresh([room], "alice", "a1", 1_000);
      expect(await p.list(room)).toEqual(["alice"]);
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
      expect(await p.list(room)).toEqual(refreshed);
      expect(await p.list(other)).toEqual(refreshed.filter((_, i) => i % 2 === 0));
    });

    test("a leave made right after a refresh, in the same turn, is not undone by it", async () => {
      const { p, room } = await setup();
      await p.join(room, "alice", "a1", 30_000);
      await p.join(room, "bob", "b1", 30_000);
      const refreshes = [p.refresh([room], "alice", "a1", 30_000), p.refresh([room], "bob", "b1", 30_000)];
      const left = p.leave(room, "alice", "a1");
      await Promise.all(refreshes);
      expect(await left).toBe(false);
      expect(await p.list(room)).toEqual(["bob"]);
      // And the other way round: a join after a refresh of the same turn is what stays.
      const again = [p.refresh([room], "bob", "b1", 30_000), p.join(room, "alice", "a1", 30_000)];
      await Promise.all(again);
      expect(await p.list(room)).toEqual(["alice", "bob"]);
    });

    test("two handles on one state see each other's joins and leaves (processes on one backend)", async () => {
      const clock = new FakeClock();
      const room = freshRoom("shared");
      const a = await open(clock);
      const b = await open(clock);
      await a.join(room, "alice", "a1", 30_000);
      await b.join(room, "bob", "b1", 30_000);
      await b.join(room, "alice", "a2", 30_000);
      expect(await a.list(room)).toEqual(["alice", "bob"]);
      expect(await b.count(room)).toBe(2);
      await b.leave(room, "alice", "a1");
      expect(await a.list(room)).toEqual(["alice", "bob"]);
      await a.leave(room, "alice", "a2");
      expect(await b.list(room)).toEqual(["bob"]);
    });

    test("concurrent joins and leaves of many connections end in the expected set", async () => {
      const { p, room } = await setup();
      const users = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, "0")}`);
      await Promise.all(users.flatMap((u) => [p.join(room, u, "c1", 30_000), p.join(room, u, "c2", 30_000)]));
      const leaving = users.filter((_, i) => i % 2 === 0);
      await Promise.all(leaving.flatMap((u) => [p.leave(room, u, "c1"), p.leave(room, u, "c2")]));
      expect(await p.list(room)).toEqual(users.filter((_, i) => i % 2 === 1));
      expect(await p.count(room)).toBe(20);
    });

    test("a TTL that is not positive is refused", async () => {
      const { p, room } = await setup();
      await expect(p.join(room, "alice", "a1", 0)).rejects.toThrow(RangeError);
      await expect(p.refresh([room], "alice", "a1", -5)).rejects.toThrow(RangeError);
      await expect(p.join(room, "alice", "a1", Number.NaN)).rejects.toThrow(RangeError);
      expect(await p.list(room)).toEqual([]);
    });
  });
}
