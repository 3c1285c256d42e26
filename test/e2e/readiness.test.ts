import { createServer } from "node:net";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonReadiness } from "../../src/cli/readiness.js";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { createPool } from "../../src/db/pool.js";
import { PgCallStore } from "../../src/db/store.js";
import { createLogger } from "../../src/log.js";
import { type HttpServer, startHttpServer } from "../../src/server/http.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { metricsUrl, startReplica } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";
import { fetchWith } from "../helpers/zombies.js";

/** A port on the test server's host where nothing listens: connecting there is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/** /readyz is open to anyone who reaches the port: it says the database is unreachable, never where it is. */
describe("/readyz when the database does not answer (real Postgres)", () => {
  let db: FreshDatabase;
  let deadUrl: string;
  let deadPort: number;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: true, mapping: loadConfig({}).calls });
    deadPort = await closedPort();
    deadUrl = withPort(db.url, deadPort);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("answers 503 `database unreachable` without host or port, and logs the detail once per change", async () => {
    let log = "";
    const logger = createLogger(
      "info",
      new Writable({
        write(chunk, _enc, cb) {
          log += String(chunk);
          cb();
        },
      }),
    );
    const mapping = loadConfig({}).calls;
    const deadPool = createPool(deadUrl, { max: 1, connectionTimeoutMs: 2_000 });
    const live = new PgCallStore(db.pool, mapping, ["active"]);
    const dead = new PgCallStore(deadPool, mapping, ["active"]);
    let store = live;
    const readiness = daemonReadiness({
      ping: () => store.ping(),
      state: { leader: true, lastTickOkAt: performance.now() },
      intervalMs: 60_000,
      logger,
    });
    let server: HttpServer | undefined;
    try {
      server = await startHttpServer("127.0.0.1", 0, {
        registry: new Registry(),
        readiness,
        readinessCacheMs: 0,
        zombies: () => ({ unavailable: "none" }),
      });
      const readyz = () => fetchWith(server?.url ?? "", "/readyz");
      expect(await readyz()).toMatchObject({ status: 200, body: "ready (leader)\n" });

      store = dead;
      for (let i = 0; i < 3; i++) {
        const r = await readyz();
        expect([r.status, r.body]).toEqual([503, "database unreachable\n"]);
        expect(r.body).not.toContain(String(deadPort));
        expect(r.body).not.toContain("127.0.0.1");
      }
      const warnings = () =>
        log
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l))
          .filter((l) => l.msg === "not ready: the database does not answer");
      // The operator still learns why, at warn (40): once, however many probes fail the same way.
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatchObject({ level: 40, err: expect.stringContaining(String(deadPort)) });

      store = live;
      expect((await readyz()).status).toBe(200);
      store = dead;
      expect((await readyz()).status).toBe(503);
      expect(warnings()).toHaveLength(2);
    } finally {
      await server?.close();
      await deadPool.end();
    }
  });

  it("the daemon itself, started on an unreachable database, answers exactly `database unreachable`", async () => {
    const r = startReplica({ DATABASE_URL: deadUrl, LOG_LEVEL: "info", RECONCILE_INTERVAL_SECONDS: "1" });
    try {
      const url = await until("the metrics server", () => metricsUrl(r));
      const ready = await fetchWith(url, "/readyz");
      expect([ready.status, ready.body]).toEqual([503, "database unreachable\n"]);
      expect(ready.body).not.toContain(String(deadPort));
    } finally {
      r.child.kill("SIGTERM");
      await r.done;
    }
  });
});
