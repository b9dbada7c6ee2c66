import { describe, expect, test } from "bun:test";
import type { UserRecord } from "../domain/user.ts";
import { senderName, UserNames } from "./user-names.ts";

/** A users repository over a plain record of names, counting reads; `gate` holds reads back until released. */
function users(names: Record<string, string>) {
  let gate: Promise<void> | null = null;
  const repo = {
    reads: 0,
    hold(): () => void {
      let release = () => {};
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = null;
        release();
      };
    },
    async findById(id: string): Promise<UserRecord | null> {
      repo.reads++;
      const name = names[id];
      if (gate !== null) await gate;
      return name === undefined ? null : ({ id, username: `${id}-login`, displayName: name } as UserRecord);
    },
  };
  return repo;
}

describe("UserNames", () => {
  test("a name is read once per TTL", async () => {
    let now = 0;
    const repo = users({ ann: "Ann" });
    const names = new UserNames({ users: repo, now: () => now, ttlMs: 1000 });
    expect(await names.get("ann")).toBe("Ann");
    now = 1000;
    expect(await names.get("ann")).toBe("Ann");
    expect(repo.reads).toBe(1);
    now = 1001;
    await names.get("ann");
    expect(repo.reads).toBe(2);
  });

  test("the default TTL is ten minutes: a sender who writes once a minute is read once", async () => {
    let now = 0;
    const repo = users({ ann: "Ann" });
    const names = new UserNames({ users: repo, now: () => now });
    for (let minute = 0; minute <= 10; minute++) {
      now = minute * 60_000;
      await names.get("ann");
    }
    expect(repo.reads).toBe(1);
    now = 10 * 60_000 + 1;
    await names.get("ann");
    expect(repo.reads).toBe(2);
  });

  test("set replaces a cached name without a read", async () => {
    const repo = users({ ann: "Ann" });
    const names = new UserNames({ users: repo, now: () => 0 });
    await names.get("ann");
    names.set("ann", "Ann B.");
    expect(names.peek("ann")).toBe("Ann B.");
    expect(await names.get("ann")).toBe("Ann B.");
    expect(repo.reads).toBe(1);
  });

  test("a read that started before a rename does not put the old name back", async () => {
    const repo = users({ ann: "Ann" });
    const names = new UserNames({ users: repo, now: () => 0 });
    const release = repo.hold();
    const loading = names.get("ann");
    names.set("ann", "Ann B.");
    release();
    // The caller that asked before the rename gets what it read; the cache keeps the rename.
    expect(await loading).toBe("Ann");
    expect(names.peek("ann")).toBe("Ann B.");
  });

  test("clear forgets every name, and a read in flight across it is not cached", async () => {
    const repo = users({ ann: "Ann", bob: "Bob" });
    const names = new UserNames({ users: repo, now: () => 0 });
    await names.get("ann");
    const release = repo.hold();
    const loading = names.get("bob");
    names.clear();
    release();
    await loading;
    expect(names.peek("ann")).toBeUndefined();
    expect(names.peek("bob")).toBeUndefined();
  });

  test("senderName: display name, else username, else the id", () => {
    expect(senderName("u1", { displayName: "Ann", username: "ann" })).toBe("Ann");
    expect(senderName("u1", { displayName: "", username: "ann" })).toBe("ann");
    expect(senderName("u1", null)).toBe("u1");
  });
});
