/** Store contract part: migration, liveness, closing and the dialect name. */
import { describe, expect, test } from "bun:test";
import type { StoreFixture } from "./fixtures.ts";

export function lifecycleContract(fx: StoreFixture): void {
  const { store, markClosed, user } = fx;
  describe("lifecycle", () => {
    test("migrate is idempotent, also when called concurrently, and keeps data", async () => {
      const u = await user();
      await store().migrate();
      await Promise.all([store().migrate(), store().migrate()]);
      expect(await store().users.findById(u.id)).toEqual(u);
    });

    test("ping resolves and close resolves", async () => {
      await store().ping();
      markClosed();
      await store().close();
    });

    test("dialect names the backend", () => {
      expect(["sqlite", "postgres"]).toContain(store().dialect);
    });
  });
}
