/**
 * Input rules that hold whatever the transport. The HTTP schemas and the STOMP gateway both apply them, so a
 * message that one accepts the other accepts too.
 */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;
/** Deliberately loose (RFC 5322 is not checkable by regex): one @, no spaces, a dot in the domain. */
export const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
export const EMAIL_MAX = 254;
export const PASSWORD_MIN = 8;
/** argon2 takes any length; the cap only bounds the work one request can cause. */
export const PASSWORD_MAX = 1024;
export const CLIENT_MSG_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const ROOM_NAME_MAX = 100;
export const ROOM_TOPIC_MAX = 500;
export const DISPLAY_NAME_MAX = 64;
export const SEARCH_QUERY_MAX = 200;
export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;
/** ULID: 26 Crockford base-32 characters. Anything else in an id position is rejected before the store sees it. */
export const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Text the stores can keep byte-for-byte: well-formed Unicode (no lone surrogates, which have no UTF-8 form)
 * and no NUL (PostgreSQL text cannot hold it).
 */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes("\u0000");
}

/** Length as a person counts it: code points, not UTF-16 units. */
export function textLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
