import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { AUTH_ERRORS, errorResponses, jsonContent } from "../schemas/common.ts";
import { SearchQuerySchema, SearchResultSchema, toSearchHitWire } from "../schemas/messages.ts";

const searchMessages = createRoute({
  method: "get",
  path: "/api/v1/search/messages",
  tags: ["search"],
  ...bearerAuth(),
  summary: "Full-text search over the caller's rooms",
  description: "Only rooms the caller is a member of are searched; deleted messages never match.",
  request: { query: SearchQuerySchema },
  responses: {
    200: jsonContent(SearchResultSchema, "Newest first."),
    ...errorResponses(...AUTH_ERRORS, "VALIDATION_FAILED", "INVALID_CURSOR", "ROOM_NOT_FOUND"),
  },
});

export function registerSearchRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(searchMessages, async (c) => {
    const { q, roomId, before, limit = PAGE_DEFAULT } = c.req.valid("query");
    const result = await c.var.services.messages.search(principalOf(c), q, { roomId, before, limit });
    return c.json({ hits: result.hits.map(toSearchHitWire), nextBefore: result.nextBefore }, 200);
  });
}
