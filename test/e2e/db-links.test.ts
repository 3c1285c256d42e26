import net from "node:net";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPool, withTransaction } from "../../src/db/pool.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { type SilentProxy, startSilentProxy } from "../helpers/silent-proxy.js";
import { until } from "../helpers/wait.js";

describe("the daemon's database links cannot hang, and its sessions cannot hold locks for long", () => {
  let db: FreshDatabase;
  const cleanups: (() => Promise<unknown>)[] = [];
  const pool = (url: string, opts: Parameters<typeof createPool>[1] = {}): pg.Pool => {
    const p = createPool(url, opts);
    cleanups.push(() => p.end());
    return p;
  };
  const proxy = async (): Promise<SilentProxy> => {
    const p = await startSilentProxy(db.url);
    cleanups.push(() => p.close());
    return p;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    await db.pool.query("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
  });
  afterEach(async () => {
    // Proxies first: a pool's end waits for nothing on a link that is already gone.
    for (const c of cleanups.reverse().splice(0)) await c().catch(() => {});
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("every session carries statement, lock and idle-in-transaction timeouts (defaults, and as given)", async () => {
    const show = async (p: pg.Pool, name: string) =>
      (await p.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name];
    const defaults = pool(db.url, { max: 1 });
    expect(await show(defaults, "statement_timeout")).toBe("30s");
    expect(await show(defaults, "lock_timeout")).toBe("5s");
    expect(await show(defaults, "idle_in_transaction_session_timeout")).toBe("30s");
    expect(await show(defaults, "application_name")).toBe("call-reconciler");
    const given = pool(db.url, {
      max: 1,
      statementTimeoutMs: 4_000,
      lockTimeoutMs: 1_500,
      idleInTransactionTimeoutMs: 2_000,
    });
    expect(await show(given, "statement_timeout")).toBe("4s");
    expect(await show(given, "lock_timeout")).toBe("1500ms");
    expect(await show(given, "idle_in_transaction_session_timeout")).toBe("2s");
  });

  it("a server that accepts and never answers: the connection attempt fails after connectionTimeoutMs", async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const { port } = server.address() as net.AddressInfo;
    const p = pool(`postgres://u:p@127.0.0.1:${port}/db`, { connectionTimeoutMs: 500 });
    const t = performance.now();
    await expect(p.query("SELECT 1")).rejects.toThrow(/timeout/i);
    expect(performance.now() - t).toBeLessThan(2_500);
    expect(sockets.size).toBeGreaterThan(0);
  });

  it("a link that goes silent (no RST): a query fails after queryTimeoutMs and its client is dropped", async () => {
    const link = await proxy();
    const p = pool(link.url, { max: 1, queryTimeoutMs: 800 });
    expect((await p.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    link.silence();
    const t = performance.now();
    await expect(p.query("SELECT 1")).rejects.toThrow(/Query read timeout/);
    const ms = performance.now() - t;
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(2_500);
    expect(p.totalCount).toBe(0);
  });

  it("a transaction whose link goes silent: fails after one query timeout; the server ends the session and frees its row lock", async () => {
    const link = await proxy();
    const p = pool(link.url, { max: 1, queryTimeoutMs: 1_000, idleInTransactionTimeoutMs: 1_000 });
    const t = performance.now();
    const tx = withTransaction(p, async (client) => {
      await client.query("SELECT * FROM t WHERE id = 1 FOR UPDATE");
      link.silence();
      // Held: the session is idle in transaction behind a silent link.
      await expect(db.pool.query("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT")).rejects.toThrow(
        /could not obtain lock/,
      );
      await client.query("SELECT 1");
    });
    await expect(tx).rejects.toThrow(/Query read timeout/);
    // No ROLLBACK was sent down the silent link to time out a second time, and the client was not pooled.
    expect(performance.now() - t).toBeLessThan(1_900);
    expect(p.totalCount).toBe(0);
    await until(
      "the server to end the silent session and release its row lock",
      async () => {
        try {
          await db.pool.query("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT");
          return true;
        } catch {
          return false;
        }
      },
      10_000,
    );
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'call-reconciler'",
      [db.name],
    );
    expect(rows).toEqual([{ n: 0 }]);
  });
});
