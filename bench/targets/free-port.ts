/**
 * TCP ports free on every address at the time of asking, for servers the bench starts: `n` of them, distinct from
 * each other and from `taken`. Every listener is held until all `n` are chosen, because ports asked for one at a
 * time can repeat (about one pair in 80 on these hosts), and a server given the same port twice refuses to start.
 */
export async function freePorts(n: number, taken: ReadonlySet<number> = new Set()): Promise<number[]> {
  const held: { port: number; stop(closeActive?: boolean): void }[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const l = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
      held.push(l);
      if (!taken.has(l.port)) ports.push(l.port);
    }
  } finally {
    for (const l of held) l.stop(true);
  }
  return ports;
}

/** One port as `freePorts` chooses them. */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const [port] = await freePorts(1, taken);
  if (port === undefined) throw new Error("no free port");
  return port;
}
