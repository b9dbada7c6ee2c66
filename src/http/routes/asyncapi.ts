import type { OpenAPIHono } from "@hono/zod-openapi";
// Embedded at build time, so a compiled binary serves the document without the docs/ folder beside it.
import asyncApiYaml from "../../../docs/asyncapi.yaml" with { type: "text" };
import type { AppEnv } from "../env.ts";

export const ASYNCAPI_PATH = "/api/v1/asyncapi.yaml";

const document: string = asyncApiYaml;

/** Serves docs/asyncapi.yaml: the AsyncAPI description of the STOMP-over-WebSocket protocol at /ws. Public. */
export function registerAsyncApiRoute(app: OpenAPIHono<AppEnv>): void {
  app.get(ASYNCAPI_PATH, (c) => c.body(document, 200, { "content-type": "application/yaml; charset=utf-8" }));
}
