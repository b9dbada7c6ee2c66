import type { Logger } from "pino";
import type { Principal } from "../services/principal.ts";
import type { Services } from "../services/services.ts";

/**
 * What every request carries through the middleware chain. `principal` is set only by requireAuth, so handlers
 * read it through `principalOf`, which refuses to run a handler that was wired without authentication.
 */
export interface AppEnv {
  Variables: {
    readonly services: Services;
    readonly requestId: string;
    readonly log: Logger;
    /** The caller's address as established by client-info.ts; null when the transport does not say. */
    readonly clientIp: string | null;
    readonly principal: Principal | undefined;
  };
}
