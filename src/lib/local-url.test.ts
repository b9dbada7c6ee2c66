import { expect, test } from "bun:test";
import { localUrl } from "./local-url.ts";

test("a wildcard address becomes the loopback address of its family", () => {
  expect(localUrl("0.0.0.0", 3000)).toBe("http://127.0.0.1:3000");
  expect(localUrl("::", 3000)).toBe("http://[::1]:3000");
  expect(localUrl("[::]", 3000)).toBe("http://[::1]:3000");
});

test("an IPv6 literal is bracketed once, names and IPv4 addresses are left as they are", () => {
  expect(localUrl("::1", 9464, "/metrics")).toBe("http://[::1]:9464/metrics");
  expect(localUrl("[::1]", 9464, "/metrics")).toBe("http://[::1]:9464/metrics");
  expect(localUrl("fe80::1%lo", 80)).toBe("http://[fe80::1%lo]:80");
  expect(localUrl("127.0.0.1", 9464, "/metrics")).toBe("http://127.0.0.1:9464/metrics");
  expect(localUrl("localhost", 3000)).toBe("http://localhost:3000");
});

test("every URL it gives parses, with the port and path it was given", () => {
  for (const host of ["0.0.0.0", "::", "::1", "[::1]", "127.0.0.1", "localhost"]) {
    const url = new URL(localUrl(host, 4321, "/metrics"));
    expect(url.port).toBe("4321");
    expect(url.pathname).toBe("/metrics");
  }
});
