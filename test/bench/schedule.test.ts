/**
 * Senders' schedules: `independent` spreads each room's members over the period (and all senders evenly), the same
 * on every run; `in-turn` sends a room's members one after another, a burst per room; `--schedule` refuses what it
 * does not know.
 */
import { describe, expect, test } from "bun:test";
import { phaseOf, SCHEDULES, type Schedule } from "../../bench/runner/schedule.ts";
import { schedule } from "../../bench/scenarios/options.ts";
import { UNPINNED } from "../support/unpinned.ts";

/** Seed's shape: 15,000 senders, rooms of 50 numbered one after another (roomsOf). */
const SENDERS = 15_000;
const ROOM = 50;

function roomPhases(s: Schedule, room: number): number[] {
  return Array.from({ length: ROOM }, (_, m) => phaseOf(s, room * ROOM + m, SENDERS)).sort((a, b) => a - b);
}

/** The most of a room's members that send within any window of 1/ROOM of the period (wrapping around). */
function mostInOneWindow(phases: readonly number[]): number {
  let most = 0;
  for (const from of phases) {
    most = Math.max(most, phases.filter((p) => (p - from + 1) % 1 < 1 / ROOM).length);
  }
  return most;
}

describe("sender schedules", () => {
  test("every phase is a fraction of the period, and the same on every call", () => {
    const indexes = {
      independent: [0, 1, 49, 50, 14_999, 2 ** 31, 2 ** 32 - 1],
      "in-turn": [0, 1, 49, 50, 14_999],
    };
    for (const s of SCHEDULES) {
      for (const i of indexes[s]) {
        const p = phaseOf(s, i, SENDERS);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(1);
        expect(phaseOf(s, i, SENDERS)).toBe(p);
      }
    }
    expect(phaseOf("in-turn", 0, 0)).toBe(0);
  });

  test("independent: each room's members spread over the period, all senders evenly", () => {
    const bins = Array.from({ length: 10 }, () => 0);
    for (let room = 0; room < SENDERS / ROOM; room++) {
      const phases = roomPhases("independent", room);
      expect(phases[ROOM - 1]! - phases[0]!).toBeGreaterThan(0.5);
      // Evenly spaced would be 1 per window; 8 is the most any of the 300 rooms has.
      expect(mostInOneWindow(phases)).toBeLessThanOrEqual(10);
      for (const p of phases) bins[Math.floor(p * 10)]!++;
    }
    for (const n of bins) {
      expect(n).toBeGreaterThan(0.9 * (SENDERS / 10));
      expect(n).toBeLessThan(1.1 * (SENDERS / 10));
    }
  });

  test("in-turn: a room's members send one after another, within 1/300 of the period", () => {
    for (const room of [0, 1, 150, 299]) {
      const phases = roomPhases("in-turn", room);
      expect(phases[ROOM - 1]! - phases[0]!).toBeLessThan(ROOM / SENDERS);
      expect(mostInOneWindow(phases)).toBe(ROOM);
    }
  });

  test("--schedule: independent unless given, in-turn when asked, anything else refused", () => {
    const options = (value?: string | boolean) => ({
      values: value === undefined ? {} : { schedule: value },
      placement: UNPINNED,
      status: () => {},
    });
    expect(schedule(options())).toBe("independent");
    expect(schedule(options("independent"))).toBe("independent");
    expect(schedule(options("in-turn"))).toBe("in-turn");
    expect(() => schedule(options("random"))).toThrow(/--schedule must be one of independent, in-turn/);
    expect(() => schedule(options(true))).toThrow(/--schedule/);
  });
});
