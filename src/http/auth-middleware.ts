import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../domain/errors.ts";
import { type Role, roleAtLeast } from "../domain/user.ts";
import type { Principal } from "../services/principal.ts";
import type { AppEnv } from "./env.ts";
import { BEARER_SECURITY } from "./schemas/common.ts";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;

/**
 * Establishes the principal from `Authorization: Bearer <access token>`: the token must verify and its session
 * and account must still be live (the auth service reads both from the store on every request, so logout and
 * deactivation take effect at once). Runs before body parsing and validation, so an anonymous caller learns
 * nothing about a route but that it needs a token.
 */
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (token === undefined) throw new AppError("UNAUTHENTICATED", "A bearer access token is required.");
  c.set("principal", await c.var.services.auth.authenticate(token));
  await next();
};

/** The authenticated caller. Throws (as an internal fault) if the route was wired without requireAuth. */
export function principalOf(c: Context<AppEnv>): Principal {
  const p = c.var.principal;
  if (p === undefined) throw new Error("route handler reached without requireAuth");
  return p;
}

/**
 * Refuses callers below `role` before their input is even validated, so a non-administrator probing an admin
 * route always gets FORBIDDEN. The services check the role again; this only fixes the order of answers.
 */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!roleAtLeast(principalOf(c).role, role))
      throw new AppError("FORBIDDEN", `Only for the ${role} role and above.`);
    await next();
  };
}

/**
 * Spread into the createRoute config of a route that needs a signed-in caller: the document names the bearer
 * scheme, and requireAuth runs before `then` (a role check, the JSON body gate), so a caller without a valid
 * token is refused before anything else is looked at. Such a route lists AUTH_ERRORS among its responses.
 */
export function bearerAuth<const M extends MiddlewareHandler<AppEnv>[]>(...then: M) {
  const middleware: [MiddlewareHandler<AppEnv>, ...M] = [requireAuth, ...then];
  return { security: BEARER_SECURITY, middleware };
}
