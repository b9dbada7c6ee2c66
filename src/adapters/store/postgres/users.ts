import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Role, UserRecord } from "../../../domain/user.ts";
import type { NewUser, UserPatch, UserRepository } from "../../../ports/store.ts";
import type { Db } from "./client.ts";
import { uniqueViolation } from "./pg-errors.ts";
import { toUserRecord, type UserRow } from "./rows.ts";

/** Which Conflict key each unique index of the users table stands for. */
const CONFLICT_KEYS: Record<string, string> = {
  users_username_key: "username",
  users_email_key: "email",
  users_pkey: "id",
};

export function postgresUsers(sql: Db): UserRepository {
  return {
    async create(u: NewUser): Promise<UserRecord> {
      try {
        const rows = await sql<UserRow[]>`
          INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
          VALUES (${u.id}, ${u.username}, ${u.email}, ${u.displayName}, ${u.passwordHash}, ${u.role}, ${u.createdAt})
          RETURNING *`;
        return toUserRecord(rows[0]!);
      } catch (error) {
        const constraint = uniqueViolation(error);
        if (constraint !== null) throw new Conflict(CONFLICT_KEYS[constraint] ?? constraint);
        throw error;
      }
    },

    async findById(id: string): Promise<UserRecord | null> {
      const rows = await sql<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
      return rows[0] ? toUserRecord(rows[0]) : null;
    },

    async findByLogin(login: string): Promise<UserRecord | null> {
      // Both indexes are unique, but one user's username may equal another's email; the username wins then.
      const rows = await sql<UserRow[]>`
        SELECT * FROM users
         WHERE lower(username) = lower(${login}) OR lower(email) = lower(${login})
         ORDER BY (lower(username) = lower(${login})) DESC
         LIMIT 1`;
      return rows[0] ? toUserRecord(rows[0]) : null;
    },

    async list(opts): Promise<UserRecord[]> {
      const after = opts.after ?? null;
      const query = opts.query ?? null;
      // starts_with() takes the prefix literally: no LIKE wildcards to escape.
      const rows = await sql<UserRow[]>`
        SELECT * FROM users
         WHERE (${after}::text IS NULL OR id > ${after}::text)
           AND (${query}::text IS NULL
                OR starts_with(lower(username), lower(${query}::text))
                OR starts_with(lower(display_name), lower(${query}::text)))
         ORDER BY id
         LIMIT ${opts.limit}`;
      return rows.map(toUserRecord);
    },

    async update(id: string, patch: UserPatch): Promise<UserRecord> {
      const rows = await sql<UserRow[]>`
        UPDATE users SET
          role          = COALESCE(${patch.role ?? null}::text, role),
          status        = COALESCE(${patch.status ?? null}::text, status),
          password_hash = COALESCE(${patch.passwordHash ?? null}::text, password_hash),
          display_name  = COALESCE(${patch.displayName ?? null}::text, display_name)
         WHERE id = ${id}
         RETURNING *`;
      if (!rows[0]) throw new NotFound("user");
      return toUserRecord(rows[0]);
    },

    async countByRole(role: Role): Promise<number> {
      const rows = await sql<{ n: number }[]>`SELECT count(*) AS n FROM users WHERE role = ${role}`;
      return rows[0]?.n ?? 0;
    },
  };
}
