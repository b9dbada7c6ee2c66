/**
 * STOMP frames as the codec exchanges them. Commands are the STOMP 1.2 set (1.0 and 1.1 use a subset of it).
 * Headers keep their wire order and repetitions; STOMP says the first occurrence of a repeated header is the
 * one that counts, which `header()` implements.
 */

export const CLIENT_COMMANDS = [
  "CONNECT",
  "STOMP",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export const SERVER_COMMANDS = ["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"] as const;
export type ServerCommand = (typeof SERVER_COMMANDS)[number];

export type StompCommand = ClientCommand | ServerCommand;

export const STOMP_VERSIONS = ["1.0", "1.1", "1.2"] as const;
export type StompVersion = (typeof STOMP_VERSIONS)[number];

/** One header as it appeared on the wire, already unescaped: [name, value]. */
export type StompHeader = readonly [name: string, value: string];

export interface StompFrame {
  readonly command: StompCommand;
  /** In wire order, repetitions kept. */
  readonly headers: readonly StompHeader[];
  /** Owned by the frame: never a view into a buffer the caller or the decoder reuses. Empty when absent. */
  readonly body: Uint8Array;
}

const CLIENT_SET: ReadonlySet<string> = new Set(CLIENT_COMMANDS);
const SERVER_SET: ReadonlySet<string> = new Set(SERVER_COMMANDS);

export function isClientCommand(command: string): command is ClientCommand {
  return CLIENT_SET.has(command);
}

export function isServerCommand(command: string): command is ServerCommand {
  return SERVER_SET.has(command);
}

/** The value of the first header called `name` (names are case-sensitive in STOMP), or undefined. */
export function header(frame: Pick<StompFrame, "headers">, name: string): string | undefined {
  for (const h of frame.headers) {
    if (h[0] === name) return h[1];
  }
  return undefined;
}

/**
 * CONNECT and CONNECTED never escape their headers in any version, so that 1.0 peers can read them; every other
 * frame escapes from 1.1 on.
 */
export function headersEscaped(command: StompCommand, version: StompVersion): boolean {
  return version !== "1.0" && command !== "CONNECT" && command !== "CONNECTED";
}
