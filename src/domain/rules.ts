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

/**
 * The highest unread count reported anywhere (`GET /api/v1/rooms`, the read answers, /user/queue/notifications):
 * a count of UNREAD_COUNT_MAX means "UNREAD_COUNT_MAX or more", and clients show it as such (e.g. "999+"). The
 * stores stop counting a room's unread messages there, so a room list or a reconnect costs at most this many rows
 * per room however much is unread, and the live counts saturate at it.
 *
 * A constant, not a configuration option: it is part of the API's contract (its documents state it, clients
 * render it), and every process must apply the same cap — the live counts of one process are replaced by counts
 * that another process's store read computed (read notices) and moved again by the same events, so two caps would
 * mix. There is nothing to tune either: at this cap the bounded count is well under a millisecond per room.
 */
export const UNREAD_COUNT_MAX = 1000;
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
