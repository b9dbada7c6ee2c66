import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import type { ZodError } from "zod";
import { AppError, ERROR_CATALOG, type ErrorCode } from "../domain/errors.ts";

/** The one error shape on the wire: `{"error": {"code", "message", "details"?}}`. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: unknown };
}

export interface IssueDetail {
  readonly path: string;
  readonly message: string;
}

/** Query fields that are paging cursors: a bad value there is INVALID_CURSOR rather than VALIDATION_FAILED. */
const CURSOR_FIELDS: ReadonlySet<string> = new Set(["before", "after"]);

export function errorBody(err: AppError): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

/**
 * Renders an AppError with its catalog status. Every 401 carries a Bearer challenge (RFC 7235 requires one);
 * every error with retryAfter carries Retry-After in whole seconds.
 */
export function errorResponse(c: Context, err: AppError): Response {
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(err.retryAfter)));
  if (err.status === 401) {
    // RFC 6750 §3.1: invalid_token only when a token was presented and refused.
    const tokenRefused = c.req.header("authorization") !== undefined && err.code !== "INVALID_CREDENTIALS";
    headers["WWW-Authenticate"] = tokenRefused
      ? 'Bearer realm="parley", error="invalid_token"'
      : 'Bearer realm="parley"';
  }
  return c.json(errorBody(err), err.status as ContentfulStatusCode, headers);
}

/** Errors the framework raises before our code runs, mapped onto the catalog. Null for anything unexpected. */
export function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new AppError("PAYLOAD_TOO_LARGE");
    if (err.status === 415) return new AppError("UNSUPPORTED_MEDIA_TYPE");
    if (err.status === 400) return new AppError("MALFORMED_JSON");
  }
  return null;
}

/**
 * The last line of defence: known errors keep their code; anything else is logged with the request id and
 * answered with a generic INTERNAL, so no stack, SQL or driver text ever reaches a client.
 */
export function createErrorHandler(fallbackLogger: Logger): (err: unknown, c: Context) => Response {
  return (err, c) => {
    const known = toAppError(err);
    if (known) return errorResponse(c, known);
    const log: Logger = c.get("log") ?? fallbackLogger;
    log.error({ err }, "unhandled error");
    return errorResponse(c, new AppError("INTERNAL", "An unexpected error occurred."));
  };
}

export function issueDetails(error: ZodError): IssueDetail[] {
  const out: IssueDetail[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ path: [...base, key].join("."), message: "Unknown field." });
    } else {
      out.push({ path: base.join("."), message: issue.message });
    }
  }
  return out;
}

/** Which catalog code a failed schema check becomes, by where the bad value was. */
export function validationError(target: string, error: ZodError): AppError {
  const details = issueDetails(error);
  if (target === "param") return new AppError("INVALID_ID", ERROR_CATALOG.INVALID_ID.text, { details });
  if (target === "query" && details.some((d) => CURSOR_FIELDS.has(d.path.split(".")[0] ?? ""))) {
    return new AppError("INVALID_CURSOR", ERROR_CATALOG.INVALID_CURSOR.text, { details });
  }
  return new AppError("VALIDATION_FAILED", ERROR_CATALOG.VALIDATION_FAILED.text, { details });
}
