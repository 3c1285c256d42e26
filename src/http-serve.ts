import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** An HTTP listener of the daemon's (the metrics server, the Event Streams sink), started. */
export interface Serving {
  /** Where it listens (http://host:port). */
  url: string;
  /** Stops taking connections, lets answers in flight finish for up to the grace, then drops what remains. */
  close(): Promise<void>;
}

/** How long closing waits for answers in flight before it drops their connections. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Serves `answer` (which handles its own errors and never rejects) on host:port. A port that cannot be bound is
 * a configuration problem: it rejects with `error(message)`, one line naming the settings that chose it.
 */
export async function serveHttp(
  answer: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  opts: {
    host: string;
    port: number;
    /** The settings' names, for the message: e.g. METRICS_HOST and METRICS_PORT. */
    settings: { host: string; port: string };
    error: (message: string) => Error;
    /** Timeouts and the like, set before it listens. */
    configure?: (server: Server) => void;
  },
): Promise<Serving> {
  // Answers being worked out: at shutdown they are owed their answer, within the grace.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const answered = answer(req, res).finally(() => inFlight.delete(answered));
    inFlight.add(answered);
  });
  opts.configure?.(server);
  const { host, port, settings } = opts;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        opts.error(
          err.code === "EADDRINUSE"
            ? `${settings.port}: ${host}:${port} is already in use`
            : `${settings.host}/${settings.port}: cannot listen on ${host}:${port} (${err.message})`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([
        Promise.allSettled([...inFlight]),
        sleep(CLOSE_GRACE_MS, undefined, { ref: false }),
      ]);
      server.closeAllConnections();
      await closed;
    },
  };
}
