import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { errorMessage } from "../error-message.js";
import { serveHttp } from "../http-serve.js";

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
  /** One pass now (POST /reconcile), answered as JSON with the status given. */
  reconcile?: (opts: { dryRun: boolean }) => Promise<{ status: number; body: unknown }>;
  /** RECONCILE_TOKEN: POST /reconcile answers only `Authorization: Bearer <token>`; null or absent, it is off. */
  reconcileToken?: string | null;
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

/** /metrics, /healthz, /readyz, /zombies and POST /reconcile on plain node:http: nothing here needs a framework. */
export async function startHttpServer(
  host: string,
  port: number,
  given: HttpServerDeps,
): Promise<HttpServer> {
  const deps = {
    ...given,
    readiness: sharedAnswer(given.readiness, given.readinessCacheMs ?? READINESS_CACHE_MS),
  };
  // A POST /reconcile waits for its pass, and is owed its answer at shutdown (its pass has stopped by then);
  // a probe stuck on the database is not waited for long.
  return serveHttp(
    (req, res) =>
      handle(req, res, deps).catch((err: unknown) => {
        send(res, 500, "text/plain", `internal error: ${errorMessage(err)}\n`);
      }),
    {
      host,
      port,
      settings: { host: "METRICS_HOST", port: "METRICS_PORT" },
      error: (message) => new ListenError(message),
      // Scrapes and probes are short; do not let an idle keep-alive socket hold up shutdown.
      configure: (server) => {
        server.keepAliveTimeout = 5_000;
      },
    },
  );
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HttpServerDeps): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/reconcile") {
    await reconcile(req, res, url, deps);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "text/plain", "method not allowed\n");
    return;
  }
  switch (url.pathname) {
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
      send(
        res,
        404,
        "text/plain",
        "not found: try /metrics, /healthz, /readyz, /zombies or POST /reconcile\n",
      );
  }
}

const DRY_RUN_VALUES: Record<string, boolean> = { true: true, "1": true, false: false, "0": false };

/**
 * POST /reconcile[?dry_run=true]; every answer is JSON. The one option is in the query, and anything else is refused (400): a
 * misspelt option, or a JSON body a caller believes is read, must never turn a dry run into real ends.
 */
async function reconcile(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: HttpServerDeps,
): Promise<void> {
  req.resume();
  const token = deps.reconcileToken ?? null;
  if (token === null || deps.reconcile === undefined) {
    sendJson(res, 404, {
      error: "POST /reconcile is off: set RECONCILE_TOKEN to serve it (with a bearer token)",
    });
    return;
  }
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    sendJson(res, 405, { error: "method not allowed: POST /reconcile" });
    return;
  }
  if (!bearerMatches(req.headers.authorization, token)) {
    res.setHeader("WWW-Authenticate", 'Bearer realm="call-reconciler"');
    sendJson(res, 401, {
      error: "unauthorized: POST /reconcile needs Authorization: Bearer <RECONCILE_TOKEN>",
    });
    return;
  }
  const problem = reconcileRequestProblem(req, url);
  if (problem !== null) {
    sendJson(res, 400, { error: problem });
    return;
  }
  const answer = await deps.reconcile({
    dryRun: DRY_RUN_VALUES[url.searchParams.get("dry_run") ?? "false"] === true,
  });
  sendJson(res, answer.status, answer.body);
}

function reconcileRequestProblem(req: IncomingMessage, url: URL): string | null {
  const unknown = [...url.searchParams.keys()].find((k) => k !== "dry_run");
  if (unknown !== undefined)
    return `unknown query parameter "${unknown}": the only one is dry_run=true|false`;
  if (url.searchParams.getAll("dry_run").length > 1) return "dry_run is given more than once";
  const dryRun = url.searchParams.get("dry_run");
  if (dryRun !== null && !Object.hasOwn(DRY_RUN_VALUES, dryRun))
    return "dry_run must be true or false (or 1/0)";
  const length = Number(req.headers["content-length"] ?? 0);
  if (length > 0 || req.headers["transfer-encoding"] !== undefined)
    return "POST /reconcile takes no body: ask for a dry run with ?dry_run=true";
  return null;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json", `${JSON.stringify(body, null, 2)}\n`);
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
