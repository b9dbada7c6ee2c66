import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { nextAfter } from "../../domain/paging.ts";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { bearerAuth } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { AUTH_ERRORS, errorResponses, jsonContent } from "../schemas/common.ts";
import {
  PublicUserEnvelopeSchema,
  PublicUserPageSchema,
  toPublicUserWire,
  UserIdParamSchema,
  UserListQuerySchema,
} from "../schemas/users.ts";

const tags = ["users"];

const directory = createRoute({
  method: "get",
  path: "/api/v1/users",
  tags,
  summary: "The user directory",
  description: "Active users by id, filtered by a prefix of username or display name. Public profiles only.",
  ...bearerAuth(),
  request: { query: UserListQuerySchema },
  responses: {
    200: jsonContent(PublicUserPageSchema, "One page of users."),
    ...errorResponses(...AUTH_ERRORS, "VALIDATION_FAILED", "INVALID_CURSOR"),
  },
});

const getUser = createRoute({
  method: "get",
  path: "/api/v1/users/{userId}",
  tags,
  summary: "A user's public profile",
  ...bearerAuth(),
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(PublicUserEnvelopeSchema, "The public profile."),
    ...errorResponses(...AUTH_ERRORS, "INVALID_ID", "USER_NOT_FOUND"),
  },
});

export function registerUserRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(directory, async (c) => {
    const { q, after, limit = PAGE_DEFAULT } = c.req.valid("query");
    const users = await c.var.services.users.directory(q, after, limit);
    // A full page may have more behind it; a short one is the end (the service reads past deactivated accounts).
    return c.json(
      {
        users: users.map(toPublicUserWire),
        nextAfter: nextAfter(users, limit, (u) => u.id),
      },
      200,
    );
  });

  app.openapi(getUser, async (c) => {
    return c.json(
      { user: toPublicUserWire(await c.var.services.users.getPublic(c.req.valid("param").userId)) },
      200,
    );
  });
}
