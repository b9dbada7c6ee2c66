/** Time source, injected so tests are deterministic. Milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}
