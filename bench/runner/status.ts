/** The live progress line: rewritten in place on a terminal, one line per update otherwise (logs, CI). */
export type Status = (line: string) => void;

export function statusLine(quiet = false): Status {
  if (quiet) return () => {};
  const tty = process.stderr.isTTY === true;
  return (line) => {
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
}

/** Ends the current in-place line so the next output starts clean. */
export function endStatus(): void {
  if (process.stderr.isTTY) process.stderr.write("\n");
}
