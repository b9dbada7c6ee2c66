import postgres from "postgres";

/**
 * BIGINT (int8, oid 20) columns hold milliseconds, seqs and counts. They are parsed into JS numbers, which is
 * exact up to 2^53 — far beyond any epoch-millisecond or per-room seq this store will ever hold.
 */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (raw: string) => Number(raw),
} satisfies postgres.PostgresType<number>;

const customTypes = { int8AsNumber };

export type Db = postgres.Sql<{ int8AsNumber: number }>;
export type Tx = postgres.TransactionSql<{ int8AsNumber: number }>;
/** Anything queries can run on: the pool or an open transaction. */
export type Queryable = Db | Tx;

export interface ClientOptions {
  readonly url: string;
  readonly schema?: string;
  readonly maxConnections?: number;
}

/** Quotes a schema name for the search_path parameter, which is parsed as a list of identifiers. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A connection pool. With `schema`, every connection starts with it as its only search_path (a startup
 * parameter, so it holds from the first statement on every connection, including reconnects).
 */
export function createClient(opts: ClientOptions): Db {
  const connection: Record<string, string> = { application_name: "parley" };
  if (opts.schema !== undefined) connection.search_path = quoteIdentifier(opts.schema);
  return postgres(opts.url, {
    max: opts.maxConnections ?? 10,
    types: customTypes,
    connection,
    // An unreachable server should fail ping() and health checks promptly, not after the 30 s default.
    connect_timeout: 10,
    // NOTICEs ("relation schema_migrations already exists", "word is too long to be indexed") are expected
    // outcomes, not worth a line on stderr.
    onnotice: () => {},
  });
}
