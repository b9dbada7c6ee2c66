/**
 * A session is one sign-in on one device: a family of refresh tokens of which exactly one is current.
 * Refresh tokens rotate on every use; presenting a token that was already rotated means it leaked, so the
 * whole family (the session) is revoked.
 */
export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** Sliding expiry: every rotation moves it to now + refresh TTL. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export function sessionIsLive(s: Session, now: number): boolean {
  return s.revokedAt === null && s.expiresAt > now;
}
