import { request } from "node:http";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type HttpServer, type HttpServerDeps, startHttpServer } from "../../src/server/http.js";
import { bearer } from "../helpers/zombies.js";

const TOKEN = "reconcile-0123456789abcdef0123456789";

/** A request with any method and body, which fetch does not allow for every method. */
function send(
  url: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: opts.method ?? "POST", headers: opts.headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("POST /reconcile: the HTTP contract", () => {
  let server: HttpServer | undefined;
  const asked: { dryRun: boolean }[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    asked.length = 0;
  });

  const serve = async (deps: Partial<HttpServerDeps>) => {
    server = await startHttpServer("127.0.0.1", 0, {
      registry: new Registry(),
      readiness: async () => ({ ready: true, reason: "ready" }),
      zombies: () => ({ unavailable: "none" }),
      reconcile: async (opts) => {
        asked.push(opts);
        return { status: 200, body: { runId: "r-1", summary: { ended: 1 } } };
      },
      ...deps,
    });
    return server.url;
  };

  it("is off (404) without RECONCILE_TOKEN", async () => {
    for (const reconcileToken of [undefined, null]) {
      const url = await serve({ reconcileToken });
      const res = await send(url, "/reconcile", { headers: bearer(TOKEN) });
      expect(res.status).toBe(404);
      expect(res.body).toMatch(/POST \/reconcile is off: set RECONCILE_TOKEN/);
      await server?.close();
      server = undefined;
    }
    expect(asked).toEqual([]);
  });

  it("answers 405 to other methods, 401 without the right bearer token, and runs nothing", async () => {
    const url = await serve({ reconcileToken: TOKEN });
    for (const method of ["GET", "PUT", "DELETE", "HEAD"]) {
      const res = await send(url, "/reconcile", { method, headers: bearer(TOKEN) });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe("POST");
    }
    for (const headers of [{}, bearer("wrong"), bearer(`${TOKEN}x`), { Authorization: TOKEN }]) {
      const res = await send(url, "/reconcile", { headers });
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
    }
    // The zombies token is another secret: it does not open this endpoint.
    expect(asked).toEqual([]);
  });

  it("runs a pass (a dry run with ?dry_run=true) and answers what the daemon answered", async () => {
    const url = await serve({
      reconcileToken: TOKEN,
      zombiesToken: "z".repeat(32),
    });
    expect((await send(url, "/reconcile", { headers: bearer("z".repeat(32)) })).status).toBe(401);
    const res = await send(url, "/reconcile", { headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ runId: "r-1", summary: { ended: 1 } });
    for (const q of ["?dry_run=true", "?dry_run=1"])
      await send(url, `/reconcile${q}`, { headers: bearer(TOKEN) });
    await send(url, "/reconcile?dry_run=false", { headers: bearer(TOKEN) });
    expect(asked).toEqual([{ dryRun: false }, { dryRun: true }, { dryRun: true }, { dryRun: false }]);
  });

  it("refuses (400) a misspelt option, a bad value and a body, so a dry run never becomes real ends", async () => {
    const url = await serve({ reconcileToken: TOKEN });
    const cases: [string, string | undefined, RegExp][] = [
      ["/reconcile?dryrun=true", undefined, /unknown query parameter "dryrun"/],
      ["/reconcile?dry_run=yes", undefined, /dry_run must be true or false/],
      ["/reconcile?dry_run=toString", undefined, /dry_run must be true or false/],
      ["/reconcile?dry_run=true&dry_run=false", undefined, /more than once/],
      ["/reconcile", '{"dryRun":true}', /takes no body: ask for a dry run with \?dry_run=true/],
    ];
    for (const [path, body, message] of cases) {
      const res = await send(url, path, {
        headers: { ...bearer(TOKEN), ...(body ? { "Content-Type": "application/json" } : {}) },
        body,
      });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(message);
    }
    expect(asked).toEqual([]);
  });

  it("sends the daemon's refusals as they are (409, 503) and still answers a pass in flight at close", async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const url = await serve({
      reconcileToken: TOKEN,
      reconcile: () =>
        new Promise((resolve) => {
          release = () => resolve({ status: 409, body: { error: "busy", running: { runId: "r-0" } } });
          arrived();
        }),
    });
    const pending = send(url, "/reconcile", { headers: bearer(TOKEN) });
    await inFlight;
    const closing = server?.close();
    server = undefined;
    release();
    const res = await pending;
    await closing;
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body)).toEqual({ error: "busy", running: { runId: "r-0" } });
  });
});
