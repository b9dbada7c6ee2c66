import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { AppError } from "../../domain/errors.ts";
import type { AppEnv } from "../env.ts";
import { errorResponses, jsonContent } from "../schemas/common.ts";

/** A readiness probe that hangs is as bad as one that fails: the store gets this long to answer. */
const READY_TIMEOUT_MS = 2000;

const StatusSchema = z.object({ status: z.string() }).openapi("Status");

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness: the process answers",
  responses: { 200: jsonContent(StatusSchema, "Alive."), ...errorResponses() },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["operations"],
  summary: "Readiness: the store answers",
  responses: { 200: jsonContent(StatusSchema, "Ready to serve."), ...errorResponses("UNAVAILABLE") },
});

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, ready: () => Promise<void>): void {
  app.openapi(healthz, (c) => c.json({ status: "ok" }, 200));

  app.openapi(readyz, async (c) => {
    try {
      await withTimeout(Promise.resolve().then(ready), READY_TIMEOUT_MS);
    } catch (err) {
      c.var.log.warn({ err }, "not ready");
      throw new AppError("UNAVAILABLE", "The store is unreachable.", { retryAfter: 5 });
    }
    return c.json({ status: "ready" }, 200);
  });
}
