import { Conflict, NotFound } from "../../../domain/errors.ts";
import type { Role, UserRecord } from "../../../domain/user.ts";
import type { NewUser, UserPatch, UserRepository } from "../../../ports/store.ts";
import type { SqliteConnection } from "./connection.ts";
import { isUniqueViolationOn } from "./sqlite-errors.ts";
import { USER_COLUMNS, type UserRow, toUserRecord } from "./rows.ts";

/** Patchable fields and their columns; the UPDATE is built only from these names, never from input. */
const PATCH_COLUMNS = {
  role: "role",
  status: "status",
  passwordHash: "password_hash",
  displayName: "display_name",
} as const satisfies Record<keyof UserPatch, string>;

export class SqliteUserRepository implements UserRepository {
  constructor(private readonly conn: SqliteConnection) {}

  async create(user: NewUser): Promise<UserRecord> {
    return this.conn.tx(() => {
      // Checked first (under the write lock) to name the conflicting key; the unique indexes are the backstop.
      const taken = this.conn.get<{ username_taken: number; email_taken: number }>(
        `SELECT EXISTS (SELECT 1 FROM users WHERE username = $username COLLATE NOCASE) AS username_taken,
                EXISTS (SELECT 1 FROM users WHERE email = $email COLLATE NOCASE) AS email_taken`,
        { username: user.username, email: user.email },
      );
      if (taken?.username_taken) throw new Conflict("username");
      if (taken?.email_taken) throw new Conflict("email");
      try {
        const row = this.conn.get<UserRow>(
          `INSERT INTO users (id, username, email, display_name, password_hash, role, status, created_at)
           VALUES ($id, $username, $email, $displayName, $passwordHash, $role, 'active', $createdAt)
           RETURNING ${USER_COLUMNS}`,
          {
            id: user.id,
            username: user.username,
            email: user.email,
            displayName: user.displayName,
            passwordHash: user.passwordHash,
            role: user.role,
            createdAt: user.createdAt,
          },
        );
        if (row === null) throw new Error("INSERT ... RETURNING returned no row");
        return toUserRecord(row);
      } catch (e) {
        if (isUniqueViolationOn(e, "users.username")) throw new Conflict("username");
        if (isUniqueViolationOn(e, "users.email")) throw new Conflict("email");
        throw e;
      }
    });
  }

  async findById(id: string): Promise<UserRecord | null> {
    const row = this.conn.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $id`, { id });
    return row === null ? null : toUserRecord(row);
  }

  async findByLogin(login: string): Promise<UserRecord | null> {
    // A username match wins over an email match should one account's username equal another's email.
    const row = this.conn.get<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users
       WHERE username = $login COLLATE NOCASE OR email = $login COLLATE NOCASE
       ORDER BY username = $login COLLATE NOCASE DESC
       LIMIT 1`,
      { login },
    );
    return row === null ? null : toUserRecord(row);
  }

  async list(opts: {
    readonly after?: string;
    readonly limit: number;
    readonly query?: string;
  }): Promise<UserRecord[]> {
    // Prefix test by comparing the leading characters, so % and _ in the query are plain characters.
    const rows = this.conn.all<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users
       WHERE ($after IS NULL OR id > $after)
         AND ($query IS NULL
              OR substr(username, 1, length($query)) = $query COLLATE NOCASE
              OR substr(display_name, 1, length($query)) = $query COLLATE NOCASE)
       ORDER BY id
       LIMIT $limit`,
      { after: opts.after ?? null, query: opts.query || null, limit: Math.max(0, opts.limit) },
    );
    return rows.map(toUserRecord);
  }

  async update(id: string, patch: UserPatch): Promise<UserRecord> {
    const sets: string[] = [];
    const params: Record<string, string> = { id };
    for (const key of Object.keys(PATCH_COLUMNS) as (keyof UserPatch)[]) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${PATCH_COLUMNS[key]} = $${key}`);
      params[key] = value;
    }
    const sql =
      sets.length === 0
        ? `SELECT ${USER_COLUMNS} FROM users WHERE id = $id`
        : `UPDATE users SET ${sets.join(", ")} WHERE id = $id RETURNING ${USER_COLUMNS}`;
    const row = this.conn.tx(() => this.conn.get<UserRow>(sql, params));
    if (row === null) throw new NotFound("user");
    return toUserRecord(row);
  }

  async countByRole(role: Role): Promise<number> {
    return (
      this.conn.get<{ n: number }>("SELECT count(*) AS n FROM users WHERE role = $role", { role })?.n ?? 0
    );
  }
}
