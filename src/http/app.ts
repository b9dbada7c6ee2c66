import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { AppError } from "../domain/errors.ts";
import type { Services } from "../services/services.ts";
import type { AppEnv } from "./env.ts";
import { createErrorHandler, validationError } from "./errors.ts";
import { createFallbackHandler } from "./fallback.ts";
import { requestContext } from "./request-context.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerAsyncApiRoute } from "./routes/asyncapi.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerMeRoutes } from "./routes/me.ts";
import { registerMessageRoutes } from "./routes/messages.ts";
import { registerOpenApiRoute } from "./routes/openapi.ts";
import { type RoomPresence, registerPresenceRoutes } from "./routes/presence.ts";
import { registerRoomRoutes } from "./routes/rooms.ts";
import { registerSearchRoutes } from "./routes/search.ts";
import { registerUserRoutes } from "./routes/users.ts";

export interface HttpDeps {
  readonly services: Services;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Take the client address from X-Forwarded-For (right-most entry) instead of the socket. */
  readonly trustProxy: boolean;
  /** Rejects when the store is unreachable; backs /readyz. */
  readonly ready: () => Promise<void>;
  /** Room presence from the real-time gateway; without it the presence route is not served. */
  readonly presence?: RoomPresence;
}

/** Version stated in the OpenAPI document: the version of the REST contract, not of the build. */
const API_VERSION = "1.0.0";

/**
 * The REST API. The HTTP layer parses and validates input, authenticates, calls one use case and shapes its
 * result; every business rule and authorization decision lives in the services. Order of checks for a request:
 * size limit (413) → route match (404/405) → authentication (401) → role, for admin routes (403) → body media
 * type, encoding and JSON syntax (415/400) → schema (400) → use case.
 */
export function createHttpApp(deps: HttpDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error);
    },
  });

  app.use("*", requestContext({ services: deps.services, logger: deps.logger, trustProxy: deps.trustProxy }));
  // Refuses by Content-Length before reading, and counts streamed bodies as they arrive: a huge body is never
  // held in memory.
  app.use(
    "*",
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", `The body may be at most ${deps.bodyLimitBytes} bytes.`, {
          details: { maxBytes: deps.bodyLimitBytes },
        });
      },
    }),
  );

  registerHealthRoutes(app, deps.ready);
  registerAuthRoutes(app);
  registerMeRoutes(app);
  registerUserRoutes(app);
  registerAdminRoutes(app);
  registerRoomRoutes(app);
  registerMessageRoutes(app);
  registerSearchRoutes(app);
  if (deps.presence) registerPresenceRoutes(app, deps.presence);
  registerAsyncApiRoute(app);
  registerOpenApiRoute(app, API_VERSION);

  app.notFound(createFallbackHandler(app.routes));
  app.onError(createErrorHandler(deps.logger));
  return app;
}
