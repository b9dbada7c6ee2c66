/** Roles grant capabilities cumulatively: an admin can do what an agent can, an agent what a user can. */
export const ROLES = ["user", "agent", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** A deactivated account keeps its data and history but can neither log in nor refresh a session. */
export const USER_STATUSES = ["active", "deactivated"] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** What other users may see of an account. Never carries the email or the password hash. */
export interface PublicUser {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  readonly status: UserStatus;
}

/** The account as the owner and administrators see it. */
export interface User extends PublicUser {
  readonly email: string;
  readonly createdAt: number;
}

/** The stored account, including the password hash; leaves the services layer never. */
export interface UserRecord extends User {
  readonly passwordHash: string;
}

export function toPublicUser(u: PublicUser): PublicUser {
  return { id: u.id, username: u.username, displayName: u.displayName, role: u.role, status: u.status };
}

export function toUser(u: User): User {
  return { ...toPublicUser(u), email: u.email, createdAt: u.createdAt };
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
