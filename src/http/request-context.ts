import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "pino";
import type { Services } from "../services/services.ts";
import { clientIp } from "./client-info.ts";
import type { AppEnv } from "./env.ts";

/** A caller-supplied request id is kept only if it is short and plain, so it is safe in headers and logs. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestContextOptions {
  readonly services: Services;
  readonly logger: Logger;
  readonly trustProxy: boolean;
}

/**
 * First in the chain: gives the request its id (echoed as x-request-id), a child logger bound to that id, the
 * client address, and the services; then writes exactly one access-log line when the response is ready. The line
 * names the route pattern, never the concrete path, so ids, queries, bodies and tokens never reach the log.
 */
export function requestContext(opts: RequestContextOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId =
      incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    const log = opts.logger.child({ requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    c.set("services", opts.services);
    c.set("clientIp", clientIp(c, opts.trustProxy));
    c.set("principal", undefined);
    await next();
    c.header("x-request-id", requestId);
    log.info(
      {
        method: c.req.method,
        route: routePath(c, -1),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      "request",
    );
  };
}
