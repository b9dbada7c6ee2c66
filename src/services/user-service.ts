import { AppError, NotFound } from "../domain/errors.ts";
import { type PublicUser, type Role, roleAtLeast, toPublicUser, toUser, type User, type UserStatus } from "../domain/user.ts";
import type { ServiceDeps } from "./deps.ts";
import type { Principal } from "./principal.ts";

/** Profiles, the user directory, and administration of accounts. */
export class UserService {
  constructor(private readonly deps: ServiceDeps) {}

  async me(p: Principal): Promise<User> {
    const u = await this.deps.store.users.findById(p.userId);
    if (!u) throw new AppError("UNAUTHENTICATED");
    return toUser(u);
  }

  async updateProfile(p: Principal, patch: { readonly displayName?: string }): Promise<User> {
    const displayName = patch.displayName?.trim();
    if (displayName === undefined) return this.me(p);
    if (displayName.length === 0) throw new AppError("VALIDATION_FAILED", "displayName must not be blank.");
    const updated = await this.deps.store.users.update(p.userId, { displayName });
    this.deps.events.emit({
      kind: "user.renamed",
      userId: updated.id,
      username: updated.username,
      displayName: updated.displayName,
    });
    return toUser(updated);
  }

  async getPublic(id: string): Promise<PublicUser> {
    const u = await this.deps.store.users.findById(id);
    if (!u) throw new AppError("USER_NOT_FOUND");
    return toPublicUser(u);
  }

  /**
   * The directory every signed-in user may search (to start a DM or add someone): active accounts only, no emails.
   * Deactivated accounts are skipped by reading further, so a short page means the directory is exhausted.
   */
  async directory(query: string | undefined, after: string | undefined, limit: number): Promise<PublicUser[]> {
    const out: PublicUser[] = [];
    let cursor = after;
    for (;;) {
      const rows = await this.deps.store.users.list({ query, after: cursor, limit });
      for (const u of rows) if (u.status === "active" && out.length < limit) out.push(toPublicUser(u));
      if (out.length >= limit || rows.length < limit) return out;
      cursor = rows[rows.length - 1]?.id;
    }
  }

  async adminList(p: Principal, query: string | undefined, after: string | undefined, limit: number): Promise<User[]> {
    requireAdmin(p);
    return (await this.deps.store.users.list({ query, after, limit })).map(toUser);
  }

  /**
   * Changes role and/or status. Deactivation ends every session of the user at once. The last administrator
   * cannot be demoted or deactivated, and nobody can deactivate or demote themselves, so the instance never
   * loses its last way in.
   */
  async adminUpdate(p: Principal, userId: string, patch: { readonly role?: Role; readonly status?: UserStatus }): Promise<User> {
    requireAdmin(p);
    const { store, clock, events } = this.deps;
    const target = await store.users.findById(userId);
    if (!target) throw new AppError("USER_NOT_FOUND");
    const demoting = patch.role !== undefined && patch.role !== "admin" && target.role === "admin";
    const deactivating = patch.status === "deactivated" && target.status !== "deactivated";
    if (target.id === p.userId && (demoting || deactivating)) {
      throw new AppError("INVALID_OPERATION", "You cannot demote or deactivate yourself.");
    }
    if (demoting && (await store.users.countByRole("admin")) <= 1) {
      throw new AppError("INVALID_OPERATION", "The last administrator cannot be demoted.");
    }
    let updated: User;
    try {
      updated = toUser(await store.users.update(userId, patch));
    } catch (e) {
      if (e instanceof NotFound) throw new AppError("USER_NOT_FOUND");
      throw e;
    }
    if (deactivating) {
      await store.sessions.revokeAll(userId, clock.now());
      events.emit({ kind: "sessions.revoked", userId, sessionIds: "all" });
    }
    return updated;
  }
}

export function requireAdmin(p: Principal): void {
  if (!roleAtLeast(p.role, "admin")) throw new AppError("FORBIDDEN", "Administrators only.");
}
