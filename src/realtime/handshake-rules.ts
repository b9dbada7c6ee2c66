import type { StompVersion } from "./stomp/frame.ts";

/** WebSocket subprotocols, best first. */
export const SUBPROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"] as const;

/** The best subprotocol the client offers, or null (the upgrade still succeeds; CONNECT then picks the version). */
export function chooseSubprotocol(offered: string | null): string | null {
  if (offered === null) return null;
  const set = new Set(offered.split(",").map((s) => s.trim().toLowerCase()));
  return SUBPROTOCOLS.find((p) => set.has(p)) ?? null;
}

/**
 * Origins matter only for browsers, which always send one: a request without Origin (a native client) passes,
 * and an empty allow-list allows any Origin, because tokens, never cookies, authenticate the socket.
 */
export function originAllowed(origin: string | null, allowed: readonly string[]): boolean {
  if (allowed.length === 0 || origin === null) return true;
  return allowed.includes(origin);
}

const SUPPORTED: readonly StompVersion[] = ["1.2", "1.1", "1.0"];

/** The highest version in CONNECT's `accept-version` that we speak; absent means 1.0 (per the spec). */
export function chooseVersion(acceptVersion: string | undefined): StompVersion | null {
  if (acceptVersion === undefined) return "1.0";
  const offered = new Set(acceptVersion.split(",").map((v) => v.trim()));
  return SUPPORTED.find((v) => offered.has(v)) ?? null;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The access token of a CONNECT frame: `Authorization: Bearer …` (any case of the name), else `passcode`. */
export function connectToken(headers: readonly (readonly [string, string])[]): string | null {
  let passcode: string | null = null;
  for (const [name, value] of headers) {
    if (name.toLowerCase() === "authorization") {
      const m = BEARER.exec(value);
      if (m?.[1] !== undefined) return m[1];
    } else if (name === "passcode" && passcode === null && value.length > 0) {
      passcode = value;
    }
  }
  return passcode;
}
