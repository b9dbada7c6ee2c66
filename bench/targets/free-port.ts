/** A TCP port free on every address at the time of asking, for a server the bench starts. */
export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
