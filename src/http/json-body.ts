import type { MiddlewareHandler } from "hono";
import { AppError } from "../domain/errors.ts";
import type { AppEnv } from "./env.ts";

/** Deeper JSON than this is refused before parsing: no request of ours needs more than a few levels. */
export const MAX_JSON_DEPTH = 32;

/** `application/json` or a `+json` suffix type; narrower than what either validator in the chain accepts. */
const JSON_MEDIA_TYPE = /^application\/([a-z.-]+\+)?json$/;
const CHARSET_PARAM = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** True if the Content-Type names JSON in UTF-8 (the only encoding JSON may use on the wire, RFC 8259 §8.1). */
export function isJsonContentType(contentType: string): boolean {
  const essence = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (!JSON_MEDIA_TYPE.test(essence)) return false;
  const charset = CHARSET_PARAM.exec(contentType)?.[1]?.toLowerCase();
  return charset === undefined || charset === "utf-8" || charset === "utf8";
}

/**
 * The nesting depth of a JSON text, counted without parsing it (brackets inside strings do not count), so a
 * hostile document is refused before the parser recurses into it. Stops counting once past `limit`.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Gatekeeper for every route with a JSON body, run before schema validation: 415 unless the body is declared
 * JSON in UTF-8, 400 MALFORMED_JSON unless it is well-formed UTF-8 and well-formed JSON, 400 VALIDATION_FAILED
 * when nested deeper than MAX_JSON_DEPTH. The size limit was already enforced by bodyLimit in front of it.
 * The bytes stay cached on the request, so the schema validator parses the very text checked here.
 */
export const jsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header("content-type");
  if (type === undefined || !isJsonContentType(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "The body must be application/json (UTF-8).");
  }
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("MALFORMED_JSON", "The body is not valid UTF-8.");
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new AppError("VALIDATION_FAILED", `JSON may be nested at most ${MAX_JSON_DEPTH} levels deep.`, {
      details: [{ path: "", message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
    });
  }
  try {
    JSON.parse(text);
  } catch {
    throw new AppError("MALFORMED_JSON", "The body is not valid JSON.");
  }
  await next();
};
