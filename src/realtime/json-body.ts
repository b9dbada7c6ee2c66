import { AppError } from "../domain/errors.ts";
import { ID_PATTERN } from "../domain/rules.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A SEND body as a JSON object; MALFORMED_JSON or VALIDATION_FAILED otherwise. */
export function jsonObject(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch {
    throw new AppError("MALFORMED_JSON", "The frame body must be a JSON object in UTF-8.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError("VALIDATION_FAILED", "The frame body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** `roomId` of a body: a string is required; one that is not a well-formed id names no room of the caller. */
export function roomIdOf(body: Record<string, unknown>): string {
  const roomId = body.roomId;
  if (typeof roomId !== "string") throw new AppError("VALIDATION_FAILED", "roomId must be a string.");
  if (!ID_PATTERN.test(roomId)) throw new AppError("ROOM_NOT_FOUND");
  return roomId;
}

/** A non-negative integer sequence number (in a body field or header). */
export function seqOf(value: unknown, name: string): number {
  const n = typeof value === "string" && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new AppError("VALIDATION_FAILED", `${name} must be a non-negative integer.`);
  }
  return n;
}
