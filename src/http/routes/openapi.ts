import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";

export const OPENAPI_PATH = "/api/v1/openapi.json";

/**
 * Serves the OpenAPI 3 document generated from the very schemas that validate requests, so the document cannot
 * drift from the behaviour. Call after every other route is registered.
 */
export function registerOpenApiRoute(app: OpenAPIHono<AppEnv>, version: string): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access token from signup, login or refresh.",
  });
  app.doc(OPENAPI_PATH, {
    openapi: "3.0.3",
    info: {
      title: "Parley",
      version,
      description:
        'Real-time chat server. Errors are `{"error": {"code", "message", "details"?}}` with a code from the catalog in docs/errors.md.',
    },
  });
}
