import { createHash, randomBytes } from "node:crypto";

/**
 * Refresh tokens are 256 random bits, so a fast hash is enough to make the stored form useless to a reader of
 * the database (no dictionary to try): only SHA-256 hashes are stored.
 */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
