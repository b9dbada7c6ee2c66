import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import { clientInfo } from "../client-info.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import {
  AuthResultSchema,
  ChangePasswordBodySchema,
  LoginBodySchema,
  RefreshBodySchema,
  SessionIdParamSchema,
  SessionListSchema,
  SignupBodySchema,
  TokenPairSchema,
  toSessionWire,
  toTokenPairWire,
} from "../schemas/auth.ts";
import { AUTH_ERRORS, BODY_ERRORS, errorResponses, jsonContent, jsonRequest } from "../schemas/common.ts";
import { toUserWire } from "../schemas/users.ts";

const tags = ["auth"];

const signup = createRoute({
  method: "post",
  path: "/api/v1/auth/signup",
  tags,
  summary: "Create an account and sign in",
  middleware: [jsonBody] as const,
  request: { body: jsonRequest(SignupBodySchema) },
  responses: {
    201: jsonContent(AuthResultSchema, "The new account and its first session."),
    ...errorResponses(...BODY_ERRORS, "USERNAME_TAKEN", "EMAIL_TAKEN", "WEAK_PASSWORD"),
  },
});

const login = createRoute({
  method: "post",
  path: "/api/v1/auth/login",
  tags,
  summary: "Sign in with username or email",
  middleware: [jsonBody] as const,
  request: { body: jsonRequest(LoginBodySchema) },
  responses: {
    200: jsonContent(AuthResultSchema, "A new session."),
    ...errorResponses(...BODY_ERRORS, "INVALID_CREDENTIALS", "ACCOUNT_DEACTIVATED", "LOGIN_THROTTLED"),
  },
});

const refresh = createRoute({
  method: "post",
  path: "/api/v1/auth/refresh",
  tags,
  summary: "Exchange a refresh token for a new token pair",
  description:
    "The refresh token rotates: the one presented is spent. Presenting a spent token again revokes the session.",
  middleware: [jsonBody] as const,
  request: { body: jsonRequest(RefreshBodySchema) },
  responses: {
    200: jsonContent(TokenPairSchema, "A fresh access token and the next refresh token."),
    ...errorResponses(...BODY_ERRORS, "INVALID_REFRESH_TOKEN", "REFRESH_TOKEN_REUSED", "ACCOUNT_DEACTIVATED"),
  },
});

const logout = createRoute({
  method: "post",
  path: "/api/v1/auth/logout",
  tags,
  summary: "End the current session",
  ...bearerAuth(),
  responses: { 204: { description: "The session is revoked." }, ...errorResponses(...AUTH_ERRORS) },
});

const changePassword = createRoute({
  method: "post",
  path: "/api/v1/auth/password",
  tags,
  summary: "Change the password",
  description: "Every other session of the account is revoked; the current one stays signed in.",
  ...bearerAuth(jsonBody),
  request: { body: jsonRequest(ChangePasswordBodySchema) },
  responses: {
    204: { description: "Changed." },
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "WRONG_PASSWORD", "WEAK_PASSWORD"),
  },
});

const listSessions = createRoute({
  method: "get",
  path: "/api/v1/auth/sessions",
  tags,
  summary: "The caller's live sessions",
  ...bearerAuth(),
  responses: {
    200: jsonContent(SessionListSchema, "Most recently used first."),
    ...errorResponses(...AUTH_ERRORS),
  },
});

const revokeSession = createRoute({
  method: "delete",
  path: "/api/v1/auth/sessions/{sessionId}",
  tags,
  summary: "Revoke one of the caller's sessions",
  ...bearerAuth(),
  request: { params: SessionIdParamSchema },
  responses: {
    204: { description: "Revoked." },
    ...errorResponses(...AUTH_ERRORS, "INVALID_ID", "SESSION_NOT_FOUND"),
  },
});

export function registerAuthRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(signup, async (c) => {
    const { user, tokens } = await c.var.services.auth.signup(c.req.valid("json"), clientInfo(c));
    return c.json({ user: toUserWire(user), ...toTokenPairWire(tokens) }, 201);
  });

  app.openapi(login, async (c) => {
    const body = c.req.valid("json");
    const { user, tokens } = await c.var.services.auth.login(body.login, body.password, clientInfo(c));
    return c.json({ user: toUserWire(user), ...toTokenPairWire(tokens) }, 200);
  });

  app.openapi(refresh, async (c) => {
    const tokens = await c.var.services.auth.refresh(c.req.valid("json").refreshToken);
    return c.json(toTokenPairWire(tokens), 200);
  });

  app.openapi(logout, async (c) => {
    await c.var.services.auth.logout(principalOf(c));
    return c.body(null, 204);
  });

  app.openapi(changePassword, async (c) => {
    const body = c.req.valid("json");
    await c.var.services.auth.changePassword(principalOf(c), body.currentPassword, body.newPassword);
    return c.body(null, 204);
  });

  app.openapi(listSessions, async (c) => {
    const p = principalOf(c);
    const sessions = await c.var.services.auth.listSessions(p);
    return c.json({ sessions: sessions.map((s) => toSessionWire(s, p.sessionId)) }, 200);
  });

  app.openapi(revokeSession, async (c) => {
    await c.var.services.auth.revokeSession(principalOf(c), c.req.valid("param").sessionId);
    return c.body(null, 204);
  });
}
