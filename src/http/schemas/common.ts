import { z } from "@hono/zod-openapi";
import { ERROR_CATALOG, type ErrorCode } from "../../domain/errors.ts";
import { ID_PATTERN, isStorableText, PAGE_DEFAULT, PAGE_MAX, textLength } from "../../domain/rules.ts";

/** Every id on the wire: a ULID. Path ids that do not match are refused as INVALID_ID before any lookup. */
export const IdSchema = z
  .string()
  .regex(ID_PATTERN)
  .openapi({ description: "A ULID.", example: "01JZ3K8X6Q9V2M4N7P0R5S8T1W" });

export const TimestampSchema = z
  .string()
  .openapi({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/**
 * Text a store can keep byte-for-byte (domain/rules.ts), at most `max` characters counted as code points —
 * which is also how JSON Schema counts maxLength. `nonBlank` refuses text that is empty after trimming.
 */
export function textSchema(opts: { readonly max?: number; readonly nonBlank?: boolean } = {}) {
  const { max, nonBlank = false } = opts;
  return z
    .string()
    .refine(isStorableText, "must be valid text without NUL characters")
    .refine((s) => !nonBlank || s.trim().length > 0, "must not be blank")
    .refine((s) => max === undefined || textLength(s) <= max, `must be at most ${max} characters`)
    .openapi({ ...(max === undefined ? {} : { maxLength: max }), ...(nonBlank ? { minLength: 1 } : {}) });
}

/** `limit` query parameter: digits only, 1..PAGE_MAX, PAGE_DEFAULT when absent. */
export const LimitQuerySchema = z
  .string()
  .regex(/^[0-9]{1,3}$/, "must be an integer")
  .transform(Number)
  .pipe(z.number().int().min(1).max(PAGE_MAX))
  .optional()
  .openapi({ type: "integer", minimum: 1, maximum: PAGE_MAX, default: PAGE_DEFAULT });

/** A positive seq used as a history cursor. */
export const SeqCursorSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer")
  .transform(Number)
  .pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
  .optional()
  .openapi({ type: "integer", minimum: 1, description: "Return only entries with a seq below this one." });

/** An id used as a paging cursor (exclusive). */
export const IdCursorSchema = z
  .string()
  .regex(ID_PATTERN, "must be an id returned as a cursor")
  .optional()
  .openapi({ description: "Opaque cursor returned by the previous page." });

/** The query of a list paged by id: `after` (exclusive) and `limit`, answered with `nextAfter`. */
export const IdPageQuerySchema = z.object({ after: IdCursorSchema, limit: LimitQuerySchema });

const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.unknown().optional().openapi({ description: "Structured detail, e.g. the failed fields." }),
    }),
  })
  .openapi("Error");

/** Errors any authenticated route can answer. */
export const AUTH_ERRORS = [
  "UNAUTHENTICATED",
  "SESSION_REVOKED",
  "ACCOUNT_DEACTIVATED",
] as const satisfies readonly ErrorCode[];
/** Errors any route with a JSON body can answer. */
export const BODY_ERRORS = [
  "VALIDATION_FAILED",
  "MALFORMED_JSON",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
] as const satisfies readonly ErrorCode[];

interface ErrorResponseSpec {
  readonly description: string;
  readonly content: { readonly "application/json": { readonly schema: typeof ErrorBodySchema } };
}

/** OpenAPI responses for the given codes (plus INTERNAL), grouped by status, each code listed in its description. */
export function errorResponses(...codes: readonly ErrorCode[]): Record<number, ErrorResponseSpec> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set<ErrorCode>([...codes, "INTERNAL"])) {
    const status = ERROR_CATALOG[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<number, ErrorResponseSpec> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[status] = {
      description: list.map((code) => `${code}: ${ERROR_CATALOG[code].text}`).join(" | "),
      content: { "application/json": { schema: ErrorBodySchema } },
    };
  }
  return out;
}

export function jsonContent<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

export function jsonRequest<T>(schema: T) {
  return { required: true, content: { "application/json": { schema } } } as const;
}

export const BEARER_SECURITY = [{ bearerAuth: [] }];
