import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log.js";
import {
  bearerMatches,
  type HttpServer,
  type HttpServerDeps,
  startHttpServer,
} from "../../src/server/http.js";
import { bearer, fetchWith } from "../helpers/zombies.js";

const TOKEN = "tok-0123456789abcdef0123456789abcdef";

describe("/zombies behind ZOMBIES_TOKEN", () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = async (deps: Partial<HttpServerDeps>) => {
    server = await startHttpServer("127.0.0.1", 0, {
      registry: new Registry(),
      readiness: async () => ({ ready: true, reason: "ready" }),
      zombies: () => ({ report: { calls: ["call-1"] } }),
      ...deps,
    });
    return server.url;
  };

  it("is off (404, saying how to turn it on) without a token; the other paths stay open", async () => {
    for (const zombiesToken of [undefined, null]) {
      const url = await serve({ zombiesToken });
      const res = await fetchWith(url, "/zombies", bearer(TOKEN));
      expect(res.status).toBe(404);
      expect(res.body).toBe("/zombies is off: set ZOMBIES_TOKEN to serve it (with a bearer token)\n");
      expect((await fetchWith(url, "/metrics")).status).toBe(200);
      expect((await fetchWith(url, "/healthz")).status).toBe(200);
      expect((await fetchWith(url, "/readyz")).status).toBe(200);
      await server?.close();
      server = undefined;
    }
  });

  it("answers 401 without the right bearer token, the report with it, 503 when there is none", async () => {
    let findings: ReturnType<HttpServerDeps["zombies"]> = { report: { calls: ["call-1"] } };
    let asked = 0;
    const url = await serve({
      zombiesToken: TOKEN,
      zombies: () => {
        asked++;
        return findings;
      },
    });
    for (const headers of [
      {},
      bearer(""),
      bearer("nope"),
      bearer(`${TOKEN} `.repeat(2)),
      { Authorization: TOKEN },
    ]) {
      const res = await fetchWith(url, "/zombies", headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="call-reconciler"');
      expect(res.body).not.toContain("call-1");
    }
    // Unauthorised callers do not even learn whether this replica leads.
    expect(asked).toBe(0);
    const ok = await fetchWith(url, "/zombies", { Authorization: `bearer  ${TOKEN}` });
    expect(ok).toMatchObject({ status: 200 });
    expect(JSON.parse(ok.body)).toEqual({ calls: ["call-1"] });
    findings = { unavailable: "standing by" };
    const standBy = await fetchWith(url, "/zombies", bearer(TOKEN));
    expect(standBy.status).toBe(503);
    expect(JSON.parse(standBy.body)).toEqual({ error: "standing by" });
  });

  it("compares digests: any length, constant time", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.slice(1)}`, TOKEN)).toBe(false);
    expect(bearerMatches("Bearer ", TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches(`Token ${TOKEN}`, TOKEN)).toBe(false);
  });
});

describe("ZOMBIES_TOKEN in the config and the logs", () => {
  it("is read (trimmed), null when unset or blank, and never echoed in an error", () => {
    expect(loadConfig({}).zombiesToken).toBeNull();
    expect(loadConfig({ ZOMBIES_TOKEN: "  " }).zombiesToken).toBeNull();
    expect(loadConfig({ ZOMBIES_TOKEN: ` ${TOKEN} ` }).zombiesToken).toBe(TOKEN);
    const bad = () => loadConfig({ ZOMBIES_TOKEN: TOKEN, RECONCILE_INTERVAL_SECONDS: "-1" });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/^RECONCILE_INTERVAL_SECONDS/);
    expect(bad).not.toThrow(TOKEN);
  });

  it("is redacted from log lines, as a field and inside the config", () => {
    let written = "";
    const sink = new Writable({
      write(chunk, _enc, done) {
        written += String(chunk);
        done();
      },
    });
    const logger = createLogger("info", sink);
    const config = loadConfig({ ZOMBIES_TOKEN: TOKEN });
    logger.info({ config, zombiesToken: TOKEN }, "start");
    expect(written).toContain("[redacted]");
    expect(written).not.toContain(TOKEN);
  });
});
