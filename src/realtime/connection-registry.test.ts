import { describe, expect, test } from "bun:test";
import { Connection } from "./connection.ts";
import { ConnectionRegistry } from "./connection-registry.ts";
import { LocalUsers } from "./local-users.ts";

function connection(id: string, userId?: string): Connection {
  const conn = new Connection(id, 0, 1024);
  if (userId !== undefined) conn.claims = { userId, sessionId: `s-${id}` };
  return conn;
}

describe("ConnectionRegistry", () => {
  test("adds, counts and removes connections whatever the order, keeping every other one", () => {
    const registry = new ConnectionRegistry(new LocalUsers());
    const conns = Array.from({ length: 6 }, (_, i) => connection(`c${i}`));
    for (const conn of conns) registry.add(conn);
    registry.add(conns[0]!);
    expect(registry.size).toBe(6);
    for (const i of [2, 0, 5]) registry.remove(conns[i]!);
    registry.remove(conns[2]!);
    expect(registry.size).toBe(3);
    expect([...registry.all()].map((c) => c.id).sort()).toEqual(["c1", "c3", "c4"]);
    for (const [i, conn] of conns.entries()) expect(registry.has(conn)).toBe([1, 3, 4].includes(i));
  });

  test("iteration visits every connection that is not removed before its turn, while the caller removes some", () => {
    const registry = new ConnectionRegistry(new LocalUsers());
    const conns = Array.from({ length: 20 }, (_, i) => connection(`c${i}`));
    for (const conn of conns) registry.add(conn);
    const seen = new Set<string>();
    for (const conn of registry.all()) {
      seen.add(conn.id);
      // Remove the current one and, every third turn, one not visited yet (which must then be skipped).
      registry.remove(conn);
      if (seen.size % 3 === 0) registry.remove(conns[0]!);
    }
    expect(registry.size).toBe(0);
    expect(seen.has("c0")).toBe(false);
    expect(seen.size).toBe(19);
  });

  test("by user: the count, lookup by id and snapshot follow binds and removals; the user's record goes last", () => {
    const users = new LocalUsers();
    const registry = new ConnectionRegistry(users);
    const [a, b, c] = [connection("a", "u1"), connection("b", "u1"), connection("c", "u2")];
    for (const conn of [a, b, c]) {
      registry.add(conn);
      registry.bindUser(conn, conn.userId!);
    }
    registry.bindUser(a, "u1");
    expect(registry.countOfUser("u1")).toBe(2);
    expect(registry.find("u1", "b")).toBe(b);
    expect(registry.find("u1", "c")).toBeUndefined();
    const snapshot = registry.ofUser("u1");
    registry.remove(a);
    expect(snapshot).toEqual([a, b]);
    expect(registry.ofUser("u1")).toEqual([b]);
    registry.remove(b);
    expect(registry.countOfUser("u1")).toBe(0);
    expect(users.get("u1")).toBeUndefined();
    expect(users.get("u2")?.connections).toBe(c);
  });

  test("a user's record stays while another owner keeps something in it", () => {
    const users = new LocalUsers();
    const registry = new ConnectionRegistry(users);
    const conn = connection("a", "u1");
    registry.add(conn);
    registry.bindUser(conn, "u1");
    users.obtain("u1").presentIn = "room";
    registry.remove(conn);
    expect(users.get("u1")?.connections).toBeNull();
    expect(users.get("u1")?.presentIn).toBe("room");
  });
});
