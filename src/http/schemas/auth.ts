import { z } from "@hono/zod-openapi";
import { DISPLAY_NAME_MAX } from "../../domain/rules.ts";
import type { Session } from "../../domain/session.ts";
import type { TokenPair } from "../../services/auth-service.ts";
import { IdSchema, iso, TimestampSchema, textSchema } from "./common.ts";
import { UserSchema } from "./users.ts";

/*
 * Field rules that need a specific code (WEAK_PASSWORD is 422, USERNAME_TAKEN 409) are left to the auth service,
 * so the schemas here check only type, shape and storable text; the service's checks give the precise answer.
 */

export const SignupBodySchema = z
  .strictObject({
    username: textSchema().openapi({
      description: "3–32 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    }),
    email: textSchema(),
    password: z.string().openapi({ description: "8–1024 characters; not the username or the email." }),
    displayName: textSchema({ max: DISPLAY_NAME_MAX }).optional(),
  })
  .openapi("Signup");

export const LoginBodySchema = z
  .strictObject({
    login: textSchema().openapi({ description: "Username or email, case-insensitive." }),
    password: z.string(),
  })
  .openapi("Login");

export const RefreshBodySchema = z.strictObject({ refreshToken: z.string() }).openapi("Refresh");

export const ChangePasswordBodySchema = z
  .strictObject({ currentPassword: z.string(), newPassword: z.string() })
  .openapi("ChangePassword");

export const TokenPairSchema = z
  .object({
    accessToken: z.string(),
    accessTokenExpiresIn: z
      .number()
      .int()
      .openapi({ description: "Seconds until the access token expires." }),
    refreshToken: z.string().openapi({ description: "Single use: every refresh returns a new one." }),
    sessionId: IdSchema,
  })
  .openapi("TokenPair");

export const AuthResultSchema = TokenPairSchema.extend({ user: UserSchema }).openapi("AuthResult");

export function toTokenPairWire(t: TokenPair): z.infer<typeof TokenPairSchema> {
  return {
    accessToken: t.accessToken,
    accessTokenExpiresIn: t.accessTokenExpiresIn,
    refreshToken: t.refreshToken,
    sessionId: t.sessionId,
  };
}

export const SessionSchema = z
  .object({
    id: IdSchema,
    createdAt: TimestampSchema,
    lastUsedAt: TimestampSchema,
    expiresAt: TimestampSchema,
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean().openapi({ description: "True for the session of the token making this request." }),
  })
  .openapi("Session");

export function toSessionWire(s: Session, currentSessionId: string): z.infer<typeof SessionSchema> {
  return {
    id: s.id,
    createdAt: iso(s.createdAt),
    lastUsedAt: iso(s.lastUsedAt),
    expiresAt: iso(s.expiresAt),
    userAgent: s.userAgent,
    ip: s.ip,
    current: s.id === currentSessionId,
  };
}

export const SessionListSchema = z.object({ sessions: z.array(SessionSchema) });

export const SessionIdParamSchema = z.object({
  sessionId: IdSchema.openapi({ param: { name: "sessionId", in: "path" } }),
});
