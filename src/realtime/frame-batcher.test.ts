import { describe, expect, test } from "bun:test";
import { type Flushable, FlushScheduler } from "./frame-batcher.ts";

const nextTurn = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(log: string[], name: string): Flushable {
  return { flush: () => log.push(name) };
}

describe("FlushScheduler", () => {
  test("window 0: flushes at the end of the current task, once per item, in first-scheduled order", async () => {
    const log: string[] = [];
    const s = new FlushScheduler(0, () => {});
    const a = recorder(log, "a");
    const b = recorder(log, "b");
    s.schedule(b);
    s.schedule(a);
    s.schedule(b);
    // Nothing during the synchronous run that scheduled them…
    expect(log).toEqual([]);
    // …and everything before the next macrotask: the flush is a microtask queued by the first schedule.
    await Promise.resolve();
    expect(log).toEqual(["b", "a"]);
    // Scheduled again after the flush: a flush of its own, still within the task.
    s.schedule(a);
    await Promise.resolve();
    expect(log).toEqual(["b", "a", "a"]);
    // What a microtask before the flush schedules joins it; what is scheduled while it runs gets the next one.
    const late = recorder(log, "late");
    s.schedule({
      flush: () => {
        log.push("c");
        s.schedule(late);
      },
    });
    await Promise.resolve();
    expect(log).toEqual(["b", "a", "a", "c"]);
    await Promise.resolve();
    expect(log).toEqual(["b", "a", "a", "c", "late"]);
  });

  test("window above 0: items scheduled in different turns share one flush at the end of the window", async () => {
    const log: string[] = [];
    const s = new FlushScheduler(40, () => {});
    s.schedule(recorder(log, "a"));
    await nextTurn();
    s.schedule(recorder(log, "b"));
    await nextTurn();
    expect(log).toEqual([]);
    await sleep(120);
    expect(log).toEqual(["a", "b"]);
  });

  test("a failing flush is reported and the others still run", async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const s = new FlushScheduler(0, (err) => errors.push(err));
    s.schedule({
      flush: () => {
        throw new Error("boom");
      },
    });
    s.schedule(recorder(log, "b"));
    await nextTurn();
    expect(log).toEqual(["b"]);
    expect(errors).toHaveLength(1);
  });

  test("flushAll runs at once and disarms the pending turn; close drops what is scheduled", async () => {
    const log: string[] = [];
    const s = new FlushScheduler(0, () => {});
    s.schedule(recorder(log, "a"));
    s.flushAll();
    expect(log).toEqual(["a"]);
    await nextTurn();
    expect(log).toEqual(["a"]);
    s.schedule(recorder(log, "b"));
    s.close();
    s.schedule(recorder(log, "c"));
    await nextTurn();
    expect(log).toEqual(["a"]);
  });
});
