/**
 * The one catalog of error codes. Every error a client can see has a code from here; HTTP maps the code to its
 * status (http/), STOMP sends it in a `code` header (realtime/). docs/errors.md is written from this table.
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: 400, text: "The request is malformed or a field has the wrong type or shape." },
  MALFORMED_JSON: { status: 400, text: "The body is not valid JSON (or not valid UTF-8)." },
  INVALID_CURSOR: { status: 400, text: "A paging cursor is not a valid value." },
  INVALID_ID: { status: 400, text: "An id in the path is not a well-formed id." },
  UNAUTHENTICATED: { status: 401, text: "No valid access token was presented, or it expired." },
  INVALID_CREDENTIALS: { status: 401, text: "Login or password is wrong (which one is not said)." },
  INVALID_REFRESH_TOKEN: { status: 401, text: "The refresh token is unknown, expired, or its session was revoked." },
  REFRESH_TOKEN_REUSED: { status: 401, text: "A rotated refresh token was presented again; the whole session was revoked." },
  SESSION_REVOKED: { status: 401, text: "The session this access token belongs to was revoked." },
  ACCOUNT_DEACTIVATED: { status: 403, text: "The account is deactivated." },
  FORBIDDEN: { status: 403, text: "Authenticated, but not allowed to do this." },
  WRONG_PASSWORD: { status: 403, text: "The current password given to confirm this change is wrong." },
  NOT_FOUND: { status: 404, text: "No such route." },
  USER_NOT_FOUND: { status: 404, text: "No such user." },
  ROOM_NOT_FOUND: { status: 404, text: "No such room, or you are not a member of it." },
  MESSAGE_NOT_FOUND: { status: 404, text: "No such message in this room." },
  SESSION_NOT_FOUND: { status: 404, text: "No such session of yours." },
  METHOD_NOT_ALLOWED: { status: 405, text: "The route exists but not with this method." },
  USERNAME_TAKEN: { status: 409, text: "The username is already in use." },
  EMAIL_TAKEN: { status: 409, text: "The email is already in use." },
  ALREADY_MEMBER: { status: 409, text: "The user is already a member of the room." },
  CLIENT_MSG_ID_CONFLICT: { status: 409, text: "This clientMsgId was already used by you for a message in another room." },
  PAYLOAD_TOO_LARGE: { status: 413, text: "The request body is larger than the configured limit." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, text: "The body must be application/json." },
  MESSAGE_TOO_LONG: { status: 422, text: "The message is longer than the configured maximum." },
  INVALID_OPERATION: { status: 422, text: "The request is well-formed but cannot be applied in the current state." },
  WEAK_PASSWORD: { status: 422, text: "The password does not meet the password policy." },
  RATE_LIMITED: { status: 429, text: "Too many requests; retry after the number of seconds in Retry-After." },
  LOGIN_THROTTLED: { status: 429, text: "Too many failed logins for this account or address; retry later." },
  INTERNAL: { status: 500, text: "An unexpected fault on the server. Nothing about it is disclosed." },
  UNAVAILABLE: { status: 503, text: "A dependency (store, broker) is unreachable." },
  NOT_CONNECTED: { status: 400, text: "A STOMP frame other than CONNECT arrived before the connection was established." },
  UNSUPPORTED_VERSION: { status: 400, text: "The client accepts no STOMP version this server speaks (1.0, 1.1, 1.2)." },
  MALFORMED_FRAME: { status: 400, text: "The bytes received are not a valid STOMP frame, or a required header is missing." },
  UNKNOWN_DESTINATION: { status: 404, text: "No such STOMP destination, or not for this frame." },
  DUPLICATE_SUBSCRIPTION: { status: 409, text: "This connection already has a subscription with that id." },
  ORIGIN_NOT_ALLOWED: { status: 403, text: "The WebSocket handshake came from an Origin that is not allowed." },
  HEARTBEAT_TIMEOUT: { status: 408, text: "The peer sent nothing, not even a heart-beat, for twice the agreed interval." },
  TOO_MANY_SUBSCRIPTIONS: { status: 429, text: "The connection has the most subscriptions allowed." },
  TOO_MANY_CONNECTIONS: { status: 429, text: "The user has the most open WebSocket connections allowed on this server." },
} as const satisfies Record<string, { status: number; text: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface AppErrorOptions {
  readonly details?: unknown;
  readonly cause?: unknown;
  /** Seconds after which a retry may succeed (429, 503). */
  readonly retryAfter?: number;
}

/** An error meant for the client: a stable code, a human message, optional structured details. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string = ERROR_CATALOG[code].text, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }
}

/** Storage-neutral: the row asked for does not exist. Services translate it into a catalog code. */
export class NotFound extends Error {
  constructor(readonly entity: string) {
    super(`${entity} not found`);
    this.name = "NotFound";
  }
}

/** Storage-neutral: a uniqueness rule was violated. `key` names which one (e.g. "username", "email"). */
export class Conflict extends Error {
  constructor(readonly key: string) {
    super(`conflict on ${key}`);
    this.name = "Conflict";
  }
}
