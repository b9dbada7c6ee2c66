export {
  STOMP_DECODE_ERROR_CODES,
  type StompDecodeError,
  type StompDecodeErrorCode,
} from "./decode-error.ts";
export { type AcceptedCommands, type DecodeResult, StompDecoder } from "./decoder.ts";
export { encodeFrame } from "./encoder.ts";
export {
  CLIENT_COMMANDS,
  type ClientCommand,
  header,
  headersEscaped,
  isClientCommand,
  isServerCommand,
  SERVER_COMMANDS,
  STOMP_VERSIONS,
  type ServerCommand,
  type StompCommand,
  type StompFrame,
  type StompHeader,
  type StompVersion,
} from "./frame.ts";
export { DEFAULT_STOMP_LIMITS, resolveStompLimits, type StompLimits } from "./limits.ts";
export { encodeMessageTemplate, type MessageTemplate } from "./message-template.ts";
