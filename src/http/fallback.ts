import type { Context } from "hono";
import { AppError } from "../domain/errors.ts";
import { errorResponse } from "./errors.ts";

interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/**
 * Answers requests no route matched: 405 METHOD_NOT_ALLOWED with an Allow header when the path exists under
 * another method, else 404 NOT_FOUND. The route table is read once, when the handler is built after every
 * route is registered.
 */
export function createFallbackHandler(routes: readonly RouteEntry[]): (c: Context) => Response {
  const patterns = new Map<string, { readonly regex: RegExp; readonly methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === "ALL" || path.includes("*")) continue;
    const entry = patterns.get(path) ?? { regex: pathRegex(path), methods: new Set<string>() };
    entry.methods.add(method);
    if (method === "GET") entry.methods.add("HEAD");
    patterns.set(path, entry);
  }
  return (c) => {
    const allowed = new Set<string>();
    for (const { regex, methods } of patterns.values()) {
      if (regex.test(c.req.path)) for (const m of methods) allowed.add(m);
    }
    if (allowed.size > 0) {
      c.header("Allow", [...allowed].sort().join(", "));
      return errorResponse(c, new AppError("METHOD_NOT_ALLOWED"));
    }
    return errorResponse(c, new AppError("NOT_FOUND"));
  };
}

/** `/api/v1/rooms/:roomId` → a regex matching one non-empty segment per parameter. */
function pathRegex(path: string): RegExp {
  const source = path
    .split("/")
    .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}
