/**
 * Bounds on what one connection may make the decoder hold. Every limit is checked as bytes arrive, so a peer
 * that never finishes a frame still cannot make the decoder buffer more than `maxFrameBytes`.
 */
export interface StompLimits {
  /** Whole frame: command line, header lines, blank line, body and the terminating NUL (EOLs after it excluded). */
  readonly maxFrameBytes: number;
  /** Header lines per frame (repetitions count). */
  readonly maxHeaders: number;
  /** One header line without its line end. */
  readonly maxHeaderLineBytes: number;
  /** Body bytes, whether delimited by content-length or by the NUL. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_STOMP_LIMITS: StompLimits = Object.freeze({
  maxFrameBytes: 65_536,
  maxHeaders: 32,
  maxHeaderLineBytes: 8_192,
  maxBodyBytes: 65_536,
});

/** Fills absent limits with the defaults; rejects values that are not positive integers (a configuration fault). */
export function resolveStompLimits(limits: Partial<StompLimits> = {}): StompLimits {
  const resolved = { ...DEFAULT_STOMP_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`STOMP limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(resolved);
}
