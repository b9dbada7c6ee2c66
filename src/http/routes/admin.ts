import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { nextAfter } from "../../domain/paging.ts";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { bearerAuth, principalOf, requireRole } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import { AUTH_ERRORS, BODY_ERRORS, errorResponses, jsonContent, jsonRequest } from "../schemas/common.ts";
import {
  AdminUpdateUserBodySchema,
  toUserWire,
  UserEnvelopeSchema,
  UserIdParamSchema,
  UserListQuerySchema,
  UserPageSchema,
} from "../schemas/users.ts";

const tags = ["admin"];

const listUsers = createRoute({
  method: "get",
  path: "/api/v1/admin/users",
  tags,
  summary: "All accounts, with emails (administrators)",
  ...bearerAuth(requireRole("admin")),
  request: { query: UserListQuerySchema },
  responses: {
    200: jsonContent(UserPageSchema, "One page of accounts."),
    ...errorResponses(...AUTH_ERRORS, "FORBIDDEN", "VALIDATION_FAILED", "INVALID_CURSOR"),
  },
});

const updateUser = createRoute({
  method: "patch",
  path: "/api/v1/admin/users/{userId}",
  tags,
  summary: "Change an account's role or status (administrators)",
  description:
    "Deactivation revokes every session of the account. The last administrator cannot be demoted, and nobody can demote or deactivate themselves.",
  ...bearerAuth(requireRole("admin"), jsonBody),
  request: { params: UserIdParamSchema, body: jsonRequest(AdminUpdateUserBodySchema) },
  responses: {
    200: jsonContent(UserEnvelopeSchema, "The updated account."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "FORBIDDEN",
      "INVALID_ID",
      "USER_NOT_FOUND",
      "INVALID_OPERATION",
    ),
  },
});

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listUsers, async (c) => {
    const { q, after, limit = PAGE_DEFAULT } = c.req.valid("query");
    const users = await c.var.services.users.adminList(principalOf(c), q, after, limit);
    return c.json({ users: users.map(toUserWire), nextAfter: nextAfter(users, limit, (u) => u.id) }, 200);
  });

  app.openapi(updateUser, async (c) => {
    const user = await c.var.services.users.adminUpdate(
      principalOf(c),
      c.req.valid("param").userId,
      c.req.valid("json"),
    );
    return c.json({ user: toUserWire(user) }, 200);
  });
}
