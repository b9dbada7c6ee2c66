import type { Session } from "../../../domain/session.ts";
import type { Role, UserStatus } from "../../../domain/user.ts";
import type { NewSession, RotateResult, SessionAccount, SessionRepository } from "../../../ports/store.ts";
import type { Db } from "./client.ts";
import { Rollback, rollbackWith } from "./pg-errors.ts";
import { type SessionRow, toSession } from "./rows.ts";

const INVALID: RotateResult = { kind: "invalid" };

export function postgresSessions(sql: Db): SessionRepository {
  return {
    async create(s: NewSession): Promise<Session> {
      return sql.begin(async (tx) => {
        const rows = await tx<SessionRow[]>`
          INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
          VALUES (${s.id}, ${s.userId}, ${s.createdAt}, ${s.createdAt}, ${s.expiresAt}, ${s.userAgent}, ${s.ip})
          RETURNING *`;
        await tx`
          INSERT INTO refresh_tokens (token_hash, session_id, issued_at)
          VALUES (${s.refreshTokenHash}, ${s.id}, ${s.createdAt})`;
        return toSession(rows[0]!);
      });
    },

    async findById(id: string): Promise<Session | null> {
      const rows = await sql<SessionRow[]>`SELECT * FROM sessions WHERE id = ${id}`;
      return rows[0] ? toSession(rows[0]) : null;
    },

    async findWithAccount(id: string): Promise<SessionAccount | null> {
      const rows = await sql<(SessionRow & { readonly u_role: Role; readonly u_status: UserStatus })[]>`
        SELECT s.*, u.role AS u_role, u.status AS u_status
          FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ${id}`;
      const row = rows[0];
      return row ? { session: toSession(row), role: row.u_role, status: row.u_status } : null;
    },

    /**
     * The conditional UPDATE is the arbiter: concurrent callers with one token queue on its row lock, and after
     * the first commits the others re-check `spent_at IS NULL`, find it false and take the reuse path. The
     * session row is locked before it is judged, so a concurrent reuse revocation cannot slip between the
     * check and the rotation.
     */
    async rotate(tokenHash, next): Promise<RotateResult> {
      return rollbackWith(() =>
        sql.begin(async (tx): Promise<RotateResult> => {
          const spent = await tx<{ session_id: string }[]>`
            UPDATE refresh_tokens SET spent_at = ${next.now}
             WHERE token_hash = ${tokenHash} AND spent_at IS NULL
            RETURNING session_id`;
          const sessionId = spent[0]?.session_id;
          if (sessionId !== undefined) {
            const locked = await tx<
              SessionRow[]
            >`SELECT * FROM sessions WHERE id = ${sessionId} FOR NO KEY UPDATE`;
            const session = locked[0];
            if (!session || session.revoked_at !== null || session.expires_at <= next.now)
              throw new Rollback(INVALID);
            await tx`
              INSERT INTO refresh_tokens (token_hash, session_id, issued_at)
              VALUES (${next.nextHash}, ${sessionId}, ${next.now})`;
            const rows = await tx<SessionRow[]>`
              UPDATE sessions SET last_used_at = ${next.now}, expires_at = ${next.expiresAt}
               WHERE id = ${sessionId}
              RETURNING *`;
            return { kind: "rotated", session: toSession(rows[0]!) };
          }
          const known = await tx<{ session_id: string; spent_at: number | null }[]>`
            SELECT session_id, spent_at FROM refresh_tokens WHERE token_hash = ${tokenHash}`;
          const token = known[0];
          if (!token || token.spent_at === null) return INVALID;
          // A spent token presented again leaked: the whole family goes, whoever holds the current token.
          const rows = await tx<SessionRow[]>`
            UPDATE sessions SET revoked_at = COALESCE(revoked_at, ${next.now})
             WHERE id = ${token.session_id}
            RETURNING *`;
          return rows[0] ? { kind: "reused", session: toSession(rows[0]) } : INVALID;
        }),
      );
    },

    async listLive(userId: string, now: number): Promise<Session[]> {
      const rows = await sql<SessionRow[]>`
        SELECT * FROM sessions
         WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > ${now}
         ORDER BY last_used_at DESC, id DESC`;
      return rows.map(toSession);
    },

    async revoke(userId: string, sessionId: string, now: number): Promise<boolean> {
      const rows = await sql`
        UPDATE sessions SET revoked_at = ${now}
         WHERE id = ${sessionId} AND user_id = ${userId} AND revoked_at IS NULL
        RETURNING id`;
      return rows.length > 0;
    },

    async revokeAll(userId: string, now: number, exceptId?: string): Promise<string[]> {
      const rows = await sql<{ id: string }[]>`
        UPDATE sessions SET revoked_at = ${now}
         WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > ${now}
           AND (${exceptId ?? null}::text IS NULL OR id <> ${exceptId ?? null}::text)
        RETURNING id`;
      return rows.map((r) => r.id);
    },
  };
}
