/** The shared Store contract against a real PostgreSQL, each test in a schema of its own that is dropped after. */
import { describe } from "bun:test";
import postgres from "postgres";
import { openPostgresStore } from "../../src/adapters/store/postgres/open-postgres-store.ts";
import { PG_URL, postgresAvailable } from "../support/services.ts";
import { storeContract } from "./store.contract.ts";

const available = await postgresAvailable();

describe.skipIf(!available)("PostgreSQL", () => {
  storeContract("postgres", async ({ onCommit }) => {
    const schema = `parley_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const store = openPostgresStore({ url: PG_URL, schema, maxConnections: 4, onCommit });
    return {
      store,
      async cleanup() {
        // The suite closes the store first; dropping needs a connection of its own.
        const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
        try {
          await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
        } finally {
          await admin.end();
        }
      },
    };
  });
});
