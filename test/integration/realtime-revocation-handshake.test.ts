/**
 * A session revoked while a CONNECT with its token is being set up. CONNECT checks the token's signature, joins
 * the user's broker channel and only then reads the session and the account, once: a revocation committed after
 * that read must still end the connection, by its notice, which the gateway matches against the session of the
 * token even before CONNECTED.
 *
 * The window is held open for real: a transaction locks the `users` table, so CONNECT's one read (the session
 * joined with its user, after the channel join) waits for it. The revocation comes from the other server, by a
 * refresh token presented twice, which touches sessions and refresh tokens only. An answer that comes while the
 * read still waits can only come from the notice.
 */
import { afterEach, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { useServerPair } from "../support/server.ts";
import { PG_URL, postgresAvailable, redisAvailable } from "../support/services.ts";
import { header, StompTestClient } from "../support/stomp-client.ts";
import { type Account, client, expectError, expectStatus, login, signup } from "./helpers.ts";

const available = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!available)("a session revoked while its CONNECT is being set up (two servers)", () => {
  const pair = useServerPair();
  const opened: StompTestClient[] = [];
  let release: (() => Promise<void>) | null = null;

  afterEach(async () => {
    await release?.();
    release = null;
    for (const c of opened.splice(0)) c.ws.close();
  });

  /** Locks the `users` table of the pair's schema until the returned function is called. */
  async function lockUsers(): Promise<{
    readonly waiting: () => Promise<number>;
    readonly release: () => Promise<void>;
  }> {
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const schema = pair.one.schema!;
    let unlock!: () => void;
    const unlocked = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const held = sql.begin(async (tx) => {
      await tx.unsafe(`LOCK TABLE ${schema}.users IN ACCESS EXCLUSIVE MODE`);
      locked();
      await unlocked;
    });
    await isLocked;
    const observer = postgres(PG_URL, { max: 1, onnotice: () => {} });
    let done = false;
    release = async () => {
      if (done) return;
      done = true;
      unlock();
      await held;
      await sql.end();
      await observer.end();
    };
    return {
      // Statements waiting for the lock: CONNECT's read once it has got that far.
      waiting: async () => {
        const rows = await observer<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_locks
           WHERE relation = ${`${schema}.users`}::regclass AND NOT granted`;
        return rows[0]!.n;
      },
      release: () => release!(),
    };
  }

  async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(10);
    }
  }

  /** Opens a socket on server two and sends CONNECT with the token, without waiting for the answer. */
  async function startConnect(token: string): Promise<StompTestClient> {
    const c = await StompTestClient.open(pair.two.wsUrl);
    opened.push(c);
    c.send("CONNECT", [
      ["accept-version", "1.2"],
      ["host", "parley"],
      ["heart-beat", "0,0"],
      ["Authorization", `Bearer ${token}`],
    ]);
    return c;
  }

  /** Spends `account`'s refresh token once, so presenting it again revokes the session (REFRESH_TOKEN_REUSED). */
  async function spendRefreshToken(account: Account): Promise<void> {
    expectStatus(
      await client(pair.one.api).post("/auth/refresh", { refreshToken: account.refreshToken }),
      200,
    );
  }

  test("revoked while CONNECT's read waits: ERROR SESSION_REVOKED by the notice, before the read returns", async () => {
    const api = client(pair.one.api);
    const a = await signup(api, "hs");
    await spendRefreshToken(a);
    const lock = await lockUsers();
    const c = await startConnect(a.accessToken);
    // CONNECT has joined the channel; its read of the session and the account now waits for the lock.
    await until("CONNECT's read to wait", async () => (await lock.waiting()) === 1);

    expectError(await api.post("/auth/refresh", { refreshToken: a.refreshToken }), "REFRESH_TOKEN_REUSED");
    const answer = await c.waitFor((f) => f.command === "CONNECTED" || f.command === "ERROR");
    expect(answer.command).toBe("ERROR");
    expect(header(answer, "code")).toBe("SESSION_REVOKED");
    // Answered while the read was still waiting: the notice did it, not a read after the lock.
    expect(await lock.waiting()).toBe(1);
    await c.closed;

    await lock.release();
    await Bun.sleep(100);
    expect(c.frames.filter((f) => f.command === "CONNECTED")).toEqual([]);
  });

  test("another session of the same user revoked meanwhile: CONNECT goes on and is CONNECTED", async () => {
    const api = client(pair.one.api);
    const a = await signup(api, "hs");
    const other = await login(api, a.user.username, a.password);
    await spendRefreshToken(other);
    // The other session's socket on server two shows when the revocation's notice has arrived there.
    const onOther = await StompTestClient.connect(pair.two.wsUrl, other.accessToken);
    opened.push(onOther);
    const lock = await lockUsers();
    const c = await startConnect(a.accessToken);
    await until("CONNECT's read to wait", async () => (await lock.waiting()) === 1);

    expectError(
      await api.post("/auth/refresh", { refreshToken: other.refreshToken }),
      "REFRESH_TOKEN_REUSED",
    );
    const ended = await onOther.waitFor((f) => f.command === "ERROR");
    expect(header(ended, "code")).toBe("SESSION_REVOKED");
    expect(c.frames).toEqual([]);
    await lock.release();
    const answer = await c.waitFor((f) => f.command === "CONNECTED" || f.command === "ERROR");
    expect(answer.command).toBe("CONNECTED");
    expect(c.closeInfo).toBeNull();
  });

  test("revoked before CONNECT's read: the read sees it", async () => {
    const api = client(pair.one.api);
    const a = await signup(api, "hs");
    await spendRefreshToken(a);
    expectError(await api.post("/auth/refresh", { refreshToken: a.refreshToken }), "REFRESH_TOKEN_REUSED");
    const c = await startConnect(a.accessToken);
    const answer = await c.waitFor((f) => f.command === "CONNECTED" || f.command === "ERROR");
    expect(header(answer, "code")).toBe("SESSION_REVOKED");
  });
});
