import { describe, expect, test } from "bun:test";
import pino from "pino";
import { MemoryHub, memoryBroker } from "../adapters/broker/memory-broker.ts";
import { USERS_CHANNEL } from "./channels.ts";
import { followRenames, parseRenameNotice } from "./renames.ts";
import { UserNames } from "./user-names.ts";

const encode = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const logger = pino({ level: "silent" });

/** Resolves once every delivery queued so far by the in-process broker has run. */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe("rename notices", () => {
  test("parseRenameNotice takes only a well-formed notice", () => {
    expect(parseRenameNotice(encode({ type: "user.renamed", userId: "u1", name: "Ann" }))).toEqual({
      type: "user.renamed",
      userId: "u1",
      name: "Ann",
    });
    for (const bad of [
      "not json",
      "null",
      { type: "user.renamed", userId: "u1" },
      { type: "user.renamed", userId: 7, name: "Ann" },
      { type: "other", userId: "u1", name: "Ann" },
    ]) {
      expect(parseRenameNotice(encode(bad))).toBeNull();
    }
  });

  test("followRenames puts an announced name in place on every process, and ignores what it cannot read", async () => {
    const hub = new MemoryHub();
    const here = memoryBroker({ hub });
    const there = memoryBroker({ hub });
    const names = new UserNames({ users: { findById: async () => null }, now: () => 0 });
    await followRenames(here, names, logger);
    await there.publish(USERS_CHANNEL, "{broken");
    await there.publish(
      USERS_CHANNEL,
      JSON.stringify({ type: "user.renamed", userId: "u1", name: "Ann B." }),
    );
    await settle();
    expect(names.peek("u1")).toBe("Ann B.");
    await here.close();
    await there.close();
  });

  test("a broker resync forgets every name: an announcement may have been lost", async () => {
    const hub = new MemoryHub();
    const broker = memoryBroker({ hub });
    const names = new UserNames({ users: { findById: async () => null }, now: () => 0 });
    await followRenames(broker, names, logger);
    names.set("u1", "Ann");
    hub.resync();
    await settle();
    expect(names.peek("u1")).toBeUndefined();
    await broker.close();
  });
});
