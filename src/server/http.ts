import { createHash, timingSafeEqual } from "node:crypto";
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
  /**
   * Whether this replica can do its job now (database reachable, loop not stuck). Asked at most once per
   * `readinessCacheMs`, however many probes arrive: /readyz is open, and each answer costs a query.
   */
  readiness: () => Promise<Readiness>;
  /** How long one readiness answer serves every /readyz. Default READINESS_CACHE_MS. */
  readinessCacheMs?: number;
  /** Whether the process itself still works (its loop moves); a 503 asks the orchestrator for a restart. */
  health?: () => Readiness;
  /** Sets the gauges that are read off the process at scrape time. */
  beforeScrape?: () => void;
  /** The last pass's findings (the shape of `audit --json`), or why there are none (503). */
  zombies: () => { report: unknown } | { unavailable: string };
  /**
   * ZOMBIES_TOKEN: `/zombies` names calls and SIDs, so it answers only `Authorization: Bearer <token>`;
   * null or absent, `/zombies` is off (404). The other paths stay open.
   */
  zombiesToken?: string | null;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

/** Raised when the metrics port cannot be bound: a configuration problem, reported as one line. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** A probe every few seconds is plenty for an orchestrator; a flood of them costs one query per window. */
export const READINESS_CACHE_MS = 5_000;

/**
 * `check` shared: requests while one check is in flight wait for it, and its answer serves every request for
 * `ttlMs` after it settles. A check that throws is not cached: the next request asks again.
 */
export function sharedAnswer<T>(check: () => Promise<T>, ttlMs: number, now = () => performance.now()) {
  let inFlight: Promise<T> | null = null;
  let cached: { value: T; at: number } | null = null;
  return (): Promise<T> => {
    if (cached !== null && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    inFlight ??= check().then(
      (value) => {
        cached = { value, at: now() };
        inFlight = null;
        return value;
      },
      (err: unknown) => {
        inFlight = null;
        throw err;
      },
    );
    return inFlight;
  };
}

/** /metrics, /healthz, /readyz and /zombies on plain node:http: nothing here needs a framework. */
export async function startHttpServer(
  host: string,
  port: number,
  given: HttpServerDeps,
): Promise<HttpServer> {
  const deps = {
    ...given,
    readiness: sharedAnswer(given.readiness, given.readinessCacheMs ?? READINESS_CACHE_MS),
  };
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
      const token = deps.zombiesToken ?? null;
      if (token === null) {
        send(
          res,
          404,
          "text/plain",
          "/zombies is off: set ZOMBIES_TOKEN to serve it (with a bearer token)\n",
        );
        return;
      }
      if (!bearerMatches(req.headers.authorization, token)) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="call-reconciler"');
        send(res, 401, "text/plain", "unauthorized: /zombies needs Authorization: Bearer <ZOMBIES_TOKEN>\n");
        return;
      }
      // Only an authorised caller learns whether this replica leads.
      const z = deps.zombies();
      if ("report" in z) send(res, 200, "application/json", `${JSON.stringify(z.report, null, 2)}\n`);
      else send(res, 503, "application/json", `${JSON.stringify({ error: z.unavailable })}\n`);
      return;
    }
    default:
      send(res, 404, "text/plain", "not found: try /metrics, /healthz, /readyz or /zombies\n");
  }
}

/**
 * Whether the header carries `Bearer <token>`, compared in constant time: both sides are hashed first, so
 * the comparison neither depends on where they differ nor reveals the token's length.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  // Parsed by hand: a backtracking pattern over a 16 KiB header would be a cheap way to burn CPU.
  if (header === undefined || header.slice(0, 7).toLowerCase() !== "bearer ") return false;
  const given = header.slice(7).trim();
  if (given === "") return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(token));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
