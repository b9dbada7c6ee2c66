import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { openServices } from "../../src/main.ts";

const root = join(import.meta.dir, "..", "..");
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "parley-cli-"));
  dirs.push(d);
  return d;
}

/** Runs the real CLI as a child process, the way an operator would. */
async function cli(args: string[], env: Record<string, string>, stdin?: string) {
  const proc = Bun.spawn([process.execPath, join(root, "src/cli.ts"), ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      PARLEY_ARGON2_MEMORY_KIB: "1024",
      PARLEY_ARGON2_TIME_COST: "1",
      ...env,
    },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, out, err };
}

describe("parley CLI", () => {
  test("without a command it prints usage and exits 2; help exits 0", async () => {
    const none = await cli([], {});
    expect(none.code).toBe(2);
    expect(none.out).toContain("usage: parley");
    expect((await cli(["help"], {})).code).toBe(0);
    const unknown = await cli(["frobnicate"], {});
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command");
  });

  test("a bad configuration value stops it with a message naming the variable", async () => {
    const r = await cli(["migrate"], { PARLEY_PORT: "not-a-port", PARLEY_DATA_DIR: await dataDir() });
    expect(r.code).toBe(2);
    expect(r.err).toContain("PARLEY_PORT");
  });

  test("migrate creates the database and is idempotent", async () => {
    const dir = await dataDir();
    for (let i = 0; i < 2; i++) {
      const r = await cli(["migrate"], { PARLEY_DATA_DIR: dir });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toContain("migrations applied (sqlite)");
    }
    expect(await Bun.file(join(dir, "parley.db")).exists()).toBe(true);
  });

  test("create-admin creates an administrator who can log in, then promotes an existing account", async () => {
    const dir = await dataDir();
    const made = await cli(
      ["create-admin", "--username", "root1", "--email", "root1@example.test", "--password-stdin"],
      { PARLEY_DATA_DIR: dir },
      "a long admin passphrase\n",
    );
    expect(made.err).toBe("");
    expect(made.code).toBe(0);
    expect(made.out).toContain("created admin root1");

    const config = loadConfig({}, { dataDir: dir, argon2MemoryKib: 1024, argon2TimeCost: 1 });
    const { store, services } = await openServices(config);
    try {
      const { user } = await services.auth.login("root1@example.test", "a long admin passphrase", {
        ip: null,
        userAgent: null,
      });
      expect(user.role).toBe("admin");
      await services.auth.signup(
        { username: "plainuser", email: "plain@example.test", password: "another passphrase" },
        { ip: null, userAgent: null },
      );
    } finally {
      await store.close();
    }

    const promoted = await cli(
      ["create-admin", "--username", "PlainUser", "--password", "ignored-for-existing"],
      { PARLEY_DATA_DIR: dir },
    );
    expect(promoted.code).toBe(0);
    expect(promoted.out).toContain("promoted plainuser");
    const again = await openServices(config);
    try {
      expect((await again.store.users.findByLogin("plainuser"))?.role).toBe("admin");
    } finally {
      await again.store.close();
    }
  });

  test("create-admin rejects bad input with a code and exit 2, creating nothing", async () => {
    const dir = await dataDir();
    const weak = await cli(
      ["create-admin", "--username", "root2", "--email", "root2@example.test", "--password", "short"],
      { PARLEY_DATA_DIR: dir },
    );
    expect(weak.code).toBe(2);
    expect(weak.err).toContain("WEAK_PASSWORD");
    const badEmail = await cli(
      ["create-admin", "--username", "root2", "--email", "nope", "--password", "long enough pass"],
      { PARLEY_DATA_DIR: dir },
    );
    expect(badEmail.code).toBe(2);
    expect(badEmail.err).toContain("VALIDATION_FAILED");
    const missing = await cli(["create-admin", "--username", "root2"], { PARLEY_DATA_DIR: dir });
    expect(missing.code).toBe(2);
    const config = loadConfig({}, { dataDir: dir });
    const { store } = await openServices(config);
    try {
      expect(await store.users.findByLogin("root2")).toBeNull();
    } finally {
      await store.close();
    }
  });
});
