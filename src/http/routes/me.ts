import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import { AUTH_ERRORS, BODY_ERRORS, errorResponses, jsonContent, jsonRequest } from "../schemas/common.ts";
import { toUserWire, UpdateMeBodySchema, UserEnvelopeSchema } from "../schemas/users.ts";

const tags = ["me"];

const getMe = createRoute({
  method: "get",
  path: "/api/v1/me",
  tags,
  summary: "The caller's own account",
  ...bearerAuth(),
  responses: {
    200: jsonContent(UserEnvelopeSchema, "The account, with email."),
    ...errorResponses(...AUTH_ERRORS),
  },
});

const patchMe = createRoute({
  method: "patch",
  path: "/api/v1/me",
  tags,
  summary: "Update the caller's profile",
  ...bearerAuth(jsonBody),
  request: { body: jsonRequest(UpdateMeBodySchema) },
  responses: {
    200: jsonContent(UserEnvelopeSchema, "The updated account."),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS),
  },
});

export function registerMeRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getMe, async (c) => {
    return c.json({ user: toUserWire(await c.var.services.users.me(principalOf(c))) }, 200);
  });

  app.openapi(patchMe, async (c) => {
    const user = await c.var.services.users.updateProfile(principalOf(c), c.req.valid("json"));
    return c.json({ user: toUserWire(user) }, 200);
  });
}
