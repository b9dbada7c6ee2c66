/**
 * The URL a process on this machine uses to reach a listener bound to `host`: a wildcard address becomes the
 * loopback address of its family (a wildcard is not an address to connect to), and an IPv6 literal is bracketed,
 * as a URL requires. Used for the URLs a running server reports, in its log line and to its caller.
 */
export function localUrl(host: string, port: number, path = ""): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host;
  const bare = reachable.startsWith("[") && reachable.endsWith("]") ? reachable.slice(1, -1) : reachable;
  const authority = bare.includes(":") ? `[${bare}]` : bare;
  return `http://${authority}:${port}${path}`;
}
