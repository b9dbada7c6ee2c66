/**
 * Why a decoder stopped. Every code means the byte stream cannot be trusted any more, so the connection is to
 * be closed (after an ERROR frame); the decoder itself stays dead and repeats the error.
 */
export const STOMP_DECODE_ERROR_CODES = [
  /** The frame (headers, body and NUL) exceeds maxFrameBytes. */
  "FRAME_TOO_LARGE",
  /** More header lines than maxHeaders. */
  "TOO_MANY_HEADERS",
  /** A header line longer than maxHeaderLineBytes. */
  "HEADER_TOO_LONG",
  /** A body, declared by content-length or received, longer than maxBodyBytes. */
  "BODY_TOO_LARGE",
  /** Not STOMP framing: a header without a colon or a name, a stray CR, a NUL in a header, no NUL after a counted body. */
  "MALFORMED_FRAME",
  /** A backslash sequence the negotiated version does not define. */
  "INVALID_ESCAPE",
  /** The command line is not a command this decoder accepts. */
  "UNKNOWN_COMMAND",
  /** content-length is not a plain decimal byte count. */
  "INVALID_CONTENT_LENGTH",
  /** A header name or value is not valid UTF-8. */
  "INVALID_UTF8",
  /** A defect of the decoder itself, reported instead of throwing; never caused by any input when the code is right. */
  "DECODER_FAULT",
] as const;

export type StompDecodeErrorCode = (typeof STOMP_DECODE_ERROR_CODES)[number];

export interface StompDecodeError {
  readonly code: StompDecodeErrorCode;
  /** Human text for an ERROR frame's `message` header; never echoes the offending bytes. */
  readonly message: string;
}
