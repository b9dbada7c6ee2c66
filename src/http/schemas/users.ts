import { z } from "@hono/zod-openapi";
import { DISPLAY_NAME_MAX, SEARCH_QUERY_MAX } from "../../domain/rules.ts";
import { type PublicUser, ROLES, USER_STATUSES, type User } from "../../domain/user.ts";
import { IdCursorSchema, IdSchema, iso, LimitQuerySchema, TimestampSchema, textSchema } from "./common.ts";

export const PublicUserSchema = z
  .object({
    id: IdSchema,
    username: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    status: z.enum(USER_STATUSES),
  })
  .openapi("PublicUser", { description: "What other users see of an account: never the email." });

export const UserSchema = PublicUserSchema.extend({
  email: z.string(),
  createdAt: TimestampSchema,
}).openapi("User", { description: "The account as its owner and administrators see it." });

export type PublicUserWire = z.infer<typeof PublicUserSchema>;
export type UserWire = z.infer<typeof UserSchema>;

/** Copies field by field, so nothing the domain object might carry beyond the public view leaks out. */
export function toPublicUserWire(u: PublicUser): PublicUserWire {
  return { id: u.id, username: u.username, displayName: u.displayName, role: u.role, status: u.status };
}

export function toUserWire(u: User): UserWire {
  return { ...toPublicUserWire(u), email: u.email, createdAt: iso(u.createdAt) };
}

export const UserEnvelopeSchema = z.object({ user: UserSchema });
export const PublicUserEnvelopeSchema = z.object({ user: PublicUserSchema });

export const UpdateMeBodySchema = z
  .strictObject({ displayName: textSchema({ max: DISPLAY_NAME_MAX, nonBlank: true }).optional() })
  .openapi("UpdateMe");

export const UserListQuerySchema = z.object({
  q: textSchema({ max: SEARCH_QUERY_MAX })
    .optional()
    .openapi({ description: "Case-insensitive prefix of username or display name." }),
  after: IdCursorSchema,
  limit: LimitQuerySchema,
});

export const PublicUserPageSchema = z.object({
  users: z.array(PublicUserSchema),
  nextAfter: IdSchema.nullable().openapi({ description: "Cursor for the next page; null on the last page." }),
});

export const UserPageSchema = z.object({
  users: z.array(UserSchema),
  nextAfter: IdSchema.nullable().openapi({ description: "Cursor for the next page; null on the last page." }),
});

export const AdminUpdateUserBodySchema = z
  .strictObject({ role: z.enum(ROLES).optional(), status: z.enum(USER_STATUSES).optional() })
  .openapi("AdminUpdateUser");

export const UserIdParamSchema = z.object({
  userId: IdSchema.openapi({ param: { name: "userId", in: "path" } }),
});
