import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts a simulator's server (127.0.0.1 and a free port by default) and returns its base URL. */
export async function listenLocal(
  server: Server,
  listen: { host?: string; port?: number } = {},
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, listen.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard bind is reached on loopback; IPv6 hosts need brackets in a URL.
  const host = { "0.0.0.0": "127.0.0.1", "::": "::1" }[address.address] ?? address.address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}
