/**
 * The probe every benchmark message carries in its text: `~T<16-digit send time µs>S<10-digit sender seq>~`,
 * padded to the requested size. Fixed widths let a sender patch a pre-built frame in place and let a receiver
 * read the values at known offsets after one search for `~T`.
 */
export const MARKER_PREFIX = "~T";
export const TIME_DIGITS = 16;
export const SEQ_DIGITS = 10;
/** Offset of the seq digits from the first time digit. */
export const SEQ_OFFSET = TIME_DIGITS + 1;
const PROBE_LENGTH = MARKER_PREFIX.length + TIME_DIGITS + 1 + SEQ_DIGITS + 1;

/** Message text of exactly max(size, probe length) ASCII characters. */
export function probeText(size: number): string {
  const probe = `${MARKER_PREFIX}${"0".repeat(TIME_DIGITS)}S${"0".repeat(SEQ_DIGITS)}~`;
  return probe + "x".repeat(Math.max(0, size - PROBE_LENGTH));
}

/** Parses `width` ASCII digits at `at`; NaN if any byte is not a digit. */
export function readDigits(buf: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) {
    const d = buf[at + i]! - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/** Parses an unsigned decimal integer starting at `at`; returns the value and the index after its last digit. */
export function readUint(buf: Uint8Array, at: number, end: number): { value: number; next: number } {
  let v = 0;
  let p = at;
  while (p < end) {
    const d = buf[p]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    p++;
  }
  return { value: p === at ? Number.NaN : v, next: p };
}
