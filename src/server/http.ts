import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { errorMessage } from "../error-message.js";

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface HttpServerDeps {
  registry: Registry;
  /** Whether this replica can do its job now (database reachable, loop not stuck). */
  readiness: () => Promise<Readiness>;
  /** Whether the process itself still works (its loop moves); a 503 asks the orchestrator for a restart. */
  health?: () => Readiness;
  /** Sets the gauges that are read off the process at scrape time. */
  beforeScrape?: () => void;
  /** The last pass's findings (the shape of `audit --json`), or why there are none. */
  zombies: () => { report: unknown } | { unavailable: string };
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

/** Raised when the metrics port cannot be bound: a configuration problem, reported as one line. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** /metrics, /healthz, /readyz and /zombies on plain node:http: nothing here needs a framework. */
export async function startHttpServer(host: string, port: number, deps: HttpServerDeps): Promise<HttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, deps).catch((err: unknown) => {
      send(res, 500, "text/plain", `internal error: ${errorMessage(err)}\n`);
    });
  });
  // Scrapes and probes are short; do not let an idle keep-alive socket hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new ListenError(
          err.code === "EADDRINUSE"
            ? `METRICS_PORT: ${host}:${port} is already in use`
            : `METRICS_HOST/METRICS_PORT: cannot listen on ${host}:${port} (${err.message})`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HttpServerDeps): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "text/plain", "method not allowed\n");
    return;
  }
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  switch (path) {
    case "/metrics":
      deps.beforeScrape?.();
      send(res, 200, deps.registry.contentType, await deps.registry.metrics());
      return;
    case "/healthz": {
      const h = deps.health?.() ?? { ready: true, reason: "ok" };
      send(res, h.ready ? 200 : 503, "text/plain", `${h.reason}\n`);
      return;
    }
    case "/readyz": {
      const r = await deps.readiness();
      send(res, r.ready ? 200 : 503, "text/plain", `${r.reason}\n`);
      return;
    }
    case "/zombies": {
      const z = deps.zombies();
      if ("report" in z) send(res, 200, "application/json", `${JSON.stringify(z.report, null, 2)}\n`);
      else send(res, 503, "application/json", `${JSON.stringify({ error: z.unavailable })}\n`);
      return;
    }
    default:
      send(res, 404, "text/plain", "not found: try /metrics, /healthz, /readyz or /zombies\n");
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
