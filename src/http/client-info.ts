import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import type { ClientInfo } from "../services/auth-service.ts";
import type { AppEnv } from "./env.ts";

/** Longest user agent kept with a session; the rest is noise that only bloats the store. */
const USER_AGENT_MAX = 256;
/** An address as written in X-Forwarded-For: IPv4 or IPv6 characters only, so nothing else reaches logs or keys. */
const ADDRESS_PATTERN = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The client's address. The socket's peer address is the truth unless `trustProxy` says a proxy we control sits
 * in front: then the right-most X-Forwarded-For entry is the address that proxy saw (entries further left were
 * written by the client and prove nothing). Null when neither is available (e.g. in-process requests in tests),
 * which login throttling treats as "no per-address counter".
 */
export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for");
    const last = forwarded?.split(",").at(-1)?.trim();
    if (last && ADDRESS_PATTERN.test(last)) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    // Not served by Bun.serve (app.request in unit tests): there is no socket to ask.
    return null;
  }
}

/** What a new session records about the device that opened it. */
export function clientInfo(c: Context<AppEnv>): ClientInfo {
  return { ip: c.var.clientIp, userAgent: c.req.header("user-agent")?.slice(0, USER_AGENT_MAX) ?? null };
}
