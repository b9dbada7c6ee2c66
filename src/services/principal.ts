import type { Role } from "../domain/user.ts";

/** Who is calling: established from a verified access token whose session and account are still live. */
export interface Principal {
  readonly userId: string;
  readonly sessionId: string;
  readonly role: Role;
}
