/**
 * A TCP proxy in front of PostgreSQL that can go silent the way a failover or a dropped NAT entry does:
 * it stops forwarding in both directions and never closes anything (no FIN, no RST), so neither side learns
 * that the link is gone until its own timeouts say so.
 */
import net from "node:net";

export interface SilentProxy {
  /** `targetUrl` with its host and port replaced by the proxy's. */
  url: string;
  /** Stops forwarding, for every connection open now and later; nothing is closed. */
  silence(): void;
  /** Connections the proxy accepted so far. */
  readonly accepted: number;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

export async function startSilentProxy(targetUrl: string): Promise<SilentProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let silent = false;
  let accepted = 0;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    track(client);
    track(upstream);
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on("data", (chunk) => {
        if (!silent) to.write(chunk);
      });
      from.on("close", () => {
        if (!silent) to.destroy();
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    silence() {
      silent = true;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
