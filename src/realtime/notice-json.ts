const decoder = new TextDecoder();

/**
 * A broker notice's payload as a JSON object, or null when it is not one: notices come from other processes,
 * possibly of another version, and one that cannot be read is ignored rather than thrown on.
 */
export function noticeObject(payload: Uint8Array): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  return v as Record<string, unknown>;
}
