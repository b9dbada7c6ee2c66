/**
 * A Parley target's fixture: one user (with an access token) per connection and the layout's rooms with their
 * members, created over the REST API as clients would, and the key under which a target caches it. Creating one
 * costs an argon2 hash per user, so both Parley targets build it once per key and start later runs from a copy.
 */
import { createHash } from "node:crypto";
import { type Layout, roomMembers } from "./target.ts";

const INITIAL_MEMBERS = 99;

/** What a run needs of a fixture, as cached next to (or inside) the data it was created in. */
export interface FixtureData {
  readonly key: string;
  /** When the signups ended; the tokens expire a day after they were issued (bench-env.ts). */
  readonly createdAt: number;
  readonly tokens: string[];
  readonly roomIds: string[];
}

/** 16 hex digits naming the fixture of `layout`; every tag that changes what the fixture holds must be in `tags`. */
export function fixtureKey(layout: Layout, ...tags: readonly string[]): string {
  const h = createHash("sha256").update(JSON.stringify(layout.connRooms));
  for (const t of tags) h.update(t);
  return h.digest("hex").slice(0, 16);
}

/**
 * 16 hex digits naming a store's migrations (versions, names and SQL), for a fixture's key: a build then never
 * starts from data that a build of another schema made (an older build refuses a newer schema, and a migration
 * under development changes).
 */
export function migrationsTag(
  migrations: readonly { readonly version: number; readonly name: string; readonly sql: string }[],
): string {
  return createHash("sha256")
    .update(JSON.stringify(migrations.map((m) => [m.version, m.name, m.sql])))
    .digest("hex")
    .slice(0, 16);
}

async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.ok) return (await res.json()) as T;
    const text = await res.text();
    if (res.status === 429 && attempt < 20) {
      await Bun.sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
      continue;
    }
    throw new Error(`POST ${url} → ${res.status}: ${text.slice(0, 300)}`);
  }
}

async function pooled<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Users (one per connection, each with a token) and rooms with their members, created over the REST API. */
export async function createFixture(
  api: string,
  layout: Layout,
  key: string,
  status: (l: string) => void,
): Promise<FixtureData> {
  const n = layout.connRooms.length;
  const tag = key.slice(0, 6);
  let done = 0;
  const users = await pooled(n, 16, async (i) => {
    const r = await postJson<{ accessToken: string; user: { id: string } }>(`${api}/auth/signup`, {
      username: `b${tag}${i}`,
      email: `b${tag}${i}@bench.invalid`,
      password: "bench-password-1",
    });
    if (++done % 500 === 0) status(`fixture: ${done}/${n} users`);
    return { id: r.user.id, token: r.accessToken };
  });
  const members = roomMembers(layout);
  const roomIds = await pooled(layout.rooms, 8, async (r) => {
    const m = members[r] ?? [];
    const creator = users[m[0] ?? 0]!;
    const ids = m.slice(1).map((c) => users[c]!.id);
    const res = await postJson<{ room: { id: string } }>(
      `${api}/rooms`,
      { name: `bench-${r}`, memberIds: ids.slice(0, INITIAL_MEMBERS) },
      creator.token,
    );
    // Large rooms (one room of thousands) get the rest of their members a few requests at a time.
    const rest = ids.slice(INITIAL_MEMBERS);
    let added = 0;
    await pooled(rest.length, 8, async (k) => {
      await postJson(`${api}/rooms/${res.room.id}/members`, { userId: rest[k]! }, creator.token);
      if (++added % 1000 === 0) status(`fixture: room ${r}: ${added + INITIAL_MEMBERS + 1} members`);
    });
    return res.room.id;
  });
  status(`fixture: ${n} users, ${layout.rooms} rooms created`);
  return { key, createdAt: Date.now(), tokens: users.map((u) => u.token), roomIds };
}
