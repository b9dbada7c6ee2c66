/**
 * Fixture templates of the multi-process target in PostgreSQL: the schema a fixture was created in, kept as it was
 * right after its creation under `parley_benchfix_<key>` (the run's schema renamed, so it is exactly what the API
 * made), with the fixture's tokens and room ids in a table of its own. Every run — the one that created it too —
 * starts from a copy of its rows in the run's fresh schema, which the build under test has migrated itself: the
 * run's tables, indexes, constraints, identity columns and schema_migrations are what its migrations make, and
 * only the rows (and the sequences' positions) come from the template.
 */
import postgres from "postgres";
import { createClient } from "../../src/adapters/store/postgres/client.ts";
import { MIGRATIONS, migrate } from "../../src/adapters/store/postgres/migrations.ts";
import { FIXTURE_MAX_AGE_MS } from "./bench-env.ts";
import { type FixtureData, migrationsTag } from "./fixture.ts";

const TEMPLATE_PREFIX = "parley_benchfix_";
/** The template's own table (the run schema never has it): the fixture and what it was built with. */
const META = "parley_bench_fixture";
const MIGRATIONS_TABLE = "schema_migrations";

/**
 * The store's migrations, versions and SQL: part of every template's key, so a build with another schema never
 * copies rows made for an older one (an applied migration is never edited, but one under development is).
 */
export const MIGRATIONS_TAG = migrationsTag(MIGRATIONS);

export function templateSchema(key: string): string {
  return `${TEMPLATE_PREFIX}${key}`;
}

type Sql = postgres.Sql;
/** The pool or an open transaction: the catalog reads below run in either. */
type Queryable = postgres.ISql;

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function withSql<T>(pgUrl: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

interface Meta {
  readonly key: string;
  readonly migrations: string;
  readonly createdAt: number;
}

/** The template's record, or null when `schema` has none (not a finished template, or no such schema). */
async function readMeta(sql: Queryable, schema: string): Promise<Meta | null> {
  const [found] = await sql<
    { t: string | null }[]
  >`SELECT to_regclass(${`${q(schema)}.${q(META)}`})::text AS t`;
  if (!found?.t) return null;
  const [row] = await sql.unsafe<{ key: string; migrations: string; created_at: string }[]>(
    `SELECT key, migrations, created_at FROM ${q(schema)}.${q(META)}`,
  );
  return row ? { key: row.key, migrations: row.migrations, createdAt: Number(row.created_at) } : null;
}

/** Built by this build's migrations and young enough for its tokens to outlive the run. */
function usable(meta: Meta | null, key: string): meta is Meta {
  return (
    meta !== null &&
    meta.key === key &&
    meta.migrations === MIGRATIONS_TAG &&
    Date.now() - meta.createdAt < FIXTURE_MAX_AGE_MS
  );
}

/** Whether a template for `key` exists that `restoreTemplate` would copy. */
export function hasTemplate(pgUrl: string, key: string): Promise<boolean> {
  return withSql(pgUrl, async (sql) => usable(await readMeta(sql, templateSchema(key)), key));
}

/**
 * Makes the fixture just created in `runSchema` (its server processes stopped) the template of `fixture.key`: the
 * schema is renamed, so the template is exactly what the API made. An older template of that key is replaced in
 * the same transaction, so a template is either complete or absent. Then drops the templates no build of this
 * source can use any more. `runSchema` no longer exists afterwards; `restoreTemplate` makes it again.
 */
export async function saveTemplate(pgUrl: string, runSchema: string, fixture: FixtureData): Promise<void> {
  const schema = templateSchema(fixture.key);
  await withSql(pgUrl, async (sql) => {
    await sql.begin(async (tx) => {
      await tx.unsafe(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
      await tx.unsafe(`ALTER SCHEMA ${q(runSchema)} RENAME TO ${q(schema)}`);
      await tx.unsafe(
        `CREATE TABLE ${q(schema)}.${q(META)} (key TEXT NOT NULL, migrations TEXT NOT NULL, created_at BIGINT NOT NULL, fixture TEXT NOT NULL)`,
      );
      await tx.unsafe(`INSERT INTO ${q(schema)}.${q(META)} VALUES ($1, $2, $3, $4)`, [
        fixture.key,
        MIGRATIONS_TAG,
        fixture.createdAt,
        JSON.stringify({ tokens: fixture.tokens, roomIds: fixture.roomIds }),
      ]);
    });
    await dropStaleTemplates(sql);
  });
}

/**
 * Templates made by other migrations (their keys are replaced: no build of this source will ask for them), expired
 * ones (their tokens are about to lapse; the next run of their layout rebuilds them) and any without a record.
 * Templates of other layouts built by these migrations stay: each scenario and size keeps its own.
 */
async function dropStaleTemplates(sql: Sql): Promise<void> {
  const schemas = await sql<{ nspname: string }[]>`
    SELECT nspname FROM pg_namespace WHERE starts_with(nspname, ${TEMPLATE_PREFIX})`;
  for (const { nspname } of schemas) {
    const meta = await readMeta(sql, nspname);
    if (!usable(meta, nspname.slice(TEMPLATE_PREFIX.length))) {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(nspname)} CASCADE`);
    }
  }
}

/** Tables of `schema` with the foreign keys between them, parents before the tables that reference them. */
async function parentsFirst(sql: Queryable, schema: string): Promise<string[]> {
  const tables = (
    await sql<{ relname: string }[]>`
      SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`
  ).map((r) => r.relname);
  const fks = await sql<{ child: string; parent: string }[]>`
    SELECT ch.relname AS child, pa.relname AS parent
    FROM pg_constraint k
    JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_namespace n ON n.oid = ch.relnamespace
    JOIN pg_class pa ON pa.oid = k.confrelid
    WHERE k.contype = 'f' AND n.nspname = ${schema}`;
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (t: string, path: Set<string>): void => {
    if (done.has(t)) return;
    if (path.has(t))
      throw new Error(`foreign keys in ${schema} form a cycle through ${t}: no insertion order`);
    path.add(t);
    // A table referencing itself is fine: its foreign key is checked at the end of the one INSERT that copies it.
    for (const fk of fks) if (fk.child === t && fk.parent !== t) visit(fk.parent, path);
    path.delete(t);
    done.add(t);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

async function versions(sql: Queryable, schema: string): Promise<string> {
  const rows = await sql.unsafe<{ version: number }[]>(
    `SELECT version FROM ${q(schema)}.${q(MIGRATIONS_TABLE)} ORDER BY version`,
  );
  return rows.map((r) => r.version).join(",");
}

export interface Restored {
  readonly fixture: FixtureData;
  readonly rows: number;
}

/**
 * Copies the template of `key` into `runSchema` (its server processes stopped) in one transaction: the rows of
 * every table the migrations made, identity values included (generated columns are computed again by the
 * same expressions), and every sequence's position; then VACUUM ANALYZE, so each run's first queries find the
 * statistics and visibility map a long-lived database has, not whatever autovacuum happened to do before.
 * Null (nothing changed) when there is no usable template.
 */
export async function restoreTemplate(
  pgUrl: string,
  key: string,
  runSchema: string,
): Promise<Restored | null> {
  const schema = templateSchema(key);
  // The migrations the server processes run at start (nothing to do if they have run; after saveTemplate the
  // schema is made again), so its tables are the build's own, whatever the template's came from.
  const db = createClient({ url: pgUrl, schema: runSchema, maxConnections: 1 });
  try {
    await migrate(db, runSchema);
  } finally {
    await db.end();
  }
  return withSql(pgUrl, async (sql) => {
    const copied = await sql.begin(async (tx) => {
      const meta = await readMeta(tx, schema);
      if (!usable(meta, key)) return null;
      const [want, have] = [await versions(tx, schema), await versions(tx, runSchema)];
      if (want !== have)
        throw new Error(`${runSchema} has migrations ${have}, its template ${schema} was made with ${want}`);
      const tables = (await parentsFirst(tx, runSchema)).filter((t) => t !== MIGRATIONS_TABLE);
      // Empty as migrated, but whatever a server process may have written at start is not the fixture's.
      await tx.unsafe(`TRUNCATE ${tables.map((t) => `${q(runSchema)}.${q(t)}`).join(", ")}`);
      let rows = 0;
      for (const t of tables) {
        const cols = (
          await tx<{ attname: string }[]>`
            SELECT attname FROM pg_attribute
            WHERE attrelid = ${`${q(runSchema)}.${q(t)}`}::regclass AND attnum > 0 AND NOT attisdropped
              AND attgenerated = ''
            ORDER BY attnum`
        )
          .map((c) => q(c.attname))
          .join(", ");
        const res = await tx.unsafe(
          `INSERT INTO ${q(runSchema)}.${q(t)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${q(schema)}.${q(t)}`,
        );
        rows += res.count;
      }
      const sequences = await tx<{ relname: string }[]>`
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${runSchema} AND c.relkind = 'S'`;
      for (const { relname } of sequences) {
        await tx.unsafe(
          `SELECT setval($1::regclass, last_value, is_called) FROM ${q(schema)}.${q(relname)}`,
          [`${q(runSchema)}.${q(relname)}`],
        );
      }
      const [row] = await tx.unsafe<{ fixture: string }[]>(`SELECT fixture FROM ${q(schema)}.${q(META)}`);
      const saved = JSON.parse(row?.fixture ?? "{}") as Pick<FixtureData, "tokens" | "roomIds">;
      return { tables, rows, fixture: { key, createdAt: meta.createdAt, ...saved } };
    });
    if (copied === null) return null;
    await sql.unsafe(`VACUUM (ANALYZE) ${copied.tables.map((t) => `${q(runSchema)}.${q(t)}`).join(", ")}`);
    return { fixture: copied.fixture, rows: copied.rows };
  });
}
