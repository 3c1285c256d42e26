import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { holdLeadership } from "../../src/daemon/leadership.js";
import { Lease, reconcileLeaseName } from "../../src/db/lease.js";
import { migrate } from "../../src/db/migrate.js";
import { createPool } from "../../src/db/pool.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const quiet = pino({ level: "silent" });

describe("the leader lease (real Postgres)", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: true, mapping: loadConfig({}).calls });
  });
  afterAll(async () => {
    await db.drop();
  });

  it("the reconcile lease is named after the table PostgreSQL resolves, not after how it is spelt", async () => {
    expect(await reconcileLeaseName(db.pool, "calls")).toBe("reconcile:public.calls");
    expect(await reconcileLeaseName(db.pool, "public.calls")).toBe("reconcile:public.calls");
    // Through search_path, as every statement of that session would resolve it.
    await db.pool.query('CREATE SCHEMA tenant; CREATE TABLE tenant."Calls" (id text)');
    const onTenant = new pg.Pool({
      connectionString: db.url,
      max: 1,
      options: "-c search_path=tenant,public",
    });
    try {
      expect(await reconcileLeaseName(onTenant, "Calls")).toBe("reconcile:tenant.Calls");
      expect(await reconcileLeaseName(onTenant, "calls")).toBe("reconcile:public.calls");
    } finally {
      await onTenant.end();
    }
    await expect(reconcileLeaseName(db.pool, "public.nope")).rejects.toThrow(
      /CALLS_TABLE: table public.nope does not exist/,
    );
  });

  it("a lease named by the database is resolved on its first request, then kept", async () => {
    let asked = 0;
    const name = async () => {
      asked++;
      return reconcileLeaseName(db.pool, "calls");
    };
    const a = new Lease(db.pool, { name, holder: "a", ttlSeconds: 60 });
    const b = new Lease(db.pool, { name: "reconcile:public.calls", holder: "b", ttlSeconds: 60 });
    expect(await a.acquireOrRenew()).toBe(true);
    expect(await b.acquireOrRenew()).toBe(false);
    expect(await b.currentHolder()).toMatchObject({ holder: "a" });
    expect(await a.name()).toBe("reconcile:public.calls");
    await a.release();
    expect(await b.acquireOrRenew()).toBe(true);
    expect(asked).toBe(1);
  });

  it("one holder at a time; renewals keep it; an expired lease passes to the next replica", async () => {
    const a = new Lease(db.pool, { name: "t1", holder: "a", ttlSeconds: 1 });
    const b = new Lease(db.pool, { name: "t1", holder: "b", ttlSeconds: 1 });
    expect(await a.acquireOrRenew()).toBe(true);
    expect(await b.acquireOrRenew()).toBe(false);
    expect(b.remainingMs()).toBeLessThan(0);
    expect(await a.acquireOrRenew()).toBe(true);
    expect(a.remainingMs()).toBeGreaterThan(500);
    // a dies without releasing: b takes over once the lease expired on the database's clock.
    await until("t1 to expire on the database's clock", async () => (await b.currentHolder()) === null);
    expect(await b.acquireOrRenew()).toBe(true);
    expect(await a.acquireOrRenew()).toBe(false);
  });

  it("exactly one of many racing replicas wins", async () => {
    const leases = Array.from(
      { length: 8 },
      (_, i) => new Lease(db.pool, { name: "t2", holder: `r${i}`, ttlSeconds: 5 }),
    );
    const won = await Promise.all(leases.map((l) => l.acquireOrRenew()));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it("release hands it over at once", async () => {
    const a = new Lease(db.pool, { name: "t3", holder: "a", ttlSeconds: 60 });
    const b = new Lease(db.pool, { name: "t3", holder: "b", ttlSeconds: 60 });
    expect(await a.acquireOrRenew()).toBe(true);
    expect(await b.acquireOrRenew()).toBe(false);
    await a.release();
    expect(await b.acquireOrRenew()).toBe(true);
  });

  it("a leader that cannot renew stops writing before its lease runs out", async () => {
    let clock = 0;
    const pool = createPool(db.url, { max: 1 });
    const lease = new Lease(pool, { name: "t4", holder: "a", ttlSeconds: 10, now: () => clock });
    expect(await lease.acquireOrRenew()).toBe(true);
    const leadership = holdLeadership(lease, 10, quiet, { heartbeat: false });
    try {
      // Plenty of lease left: writes go ahead without asking the database.
      clock = 4_000;
      expect(await leadership.beat()).toBe(true);
      expect(leadership.signal.aborted).toBe(false);
      // Past half the lease it renews first; with the database gone the renewal fails, so: no more writes,
      // 4 s before the lease could have passed to anyone else.
      await pool.end();
      clock = 6_000;
      expect(await leadership.beat()).toBe(false);
      expect(leadership.signal.aborted).toBe(true);
      expect(lease.remainingMs()).toBeLessThan(0);
    } finally {
      leadership.stop();
    }
  });

  it("a leader whose lease was taken over stops writing", async () => {
    let clock = 0;
    const lease = new Lease(db.pool, { name: "t5", holder: "a", ttlSeconds: 1, now: () => clock });
    expect(await lease.acquireOrRenew()).toBe(true);
    await until("t5 to expire on the database's clock", async () => (await lease.currentHolder()) === null);
    expect(await new Lease(db.pool, { name: "t5", holder: "b", ttlSeconds: 60 }).acquireOrRenew()).toBe(true);
    const leadership = holdLeadership(lease, 1, quiet, { heartbeat: false });
    try {
      clock = 600;
      expect(await leadership.beat()).toBe(false);
      expect(leadership.signal.aborted).toBe(true);
    } finally {
      leadership.stop();
    }
  });

  it("a renewal that goes unanswered aborts leadership before the lease runs out", async () => {
    const lease = new Lease(db.pool, { name: "t6", holder: "a", ttlSeconds: 3 });
    expect(await lease.acquireOrRenew()).toBe(true);
    // The heartbeat renews through this lease, whose database never answers.
    Object.assign(lease, { acquireOrRenew: () => new Promise<boolean>(() => {}) });
    const leadership = holdLeadership(lease, 3, quiet);
    const leftWhenLost = new Promise<number>((resolve) =>
      leadership.signal.addEventListener("abort", () => resolve(lease.remainingMs())),
    );
    try {
      // A sleep: real time must pass for a too-early abort to show; the abort itself comes at 2.5 s.
      await new Promise((r) => setTimeout(r, 1000));
      expect(leadership.signal.aborted).toBe(false);
      expect(await leftWhenLost).toBeGreaterThan(0);
    } finally {
      leadership.stop();
    }
  });

  it("a renewal made elsewhere (the loop's lease check during a requested pass) moves the deadline too", async () => {
    const lease = new Lease(db.pool, { name: "t8", holder: "a", ttlSeconds: 3 });
    expect(await lease.acquireOrRenew()).toBe(true);
    const leadership = holdLeadership(lease, 3, quiet);
    try {
      // Renewed by someone else before the heartbeat's turn: the heartbeat then sees plenty left and skips its
      // own renewal, and the deadline armed at the start (2.5 s) must not fire on a lease valid until 4.2 s.
      // Sleeps: the renewal must come before the heartbeat's turn (1.5 s left), the check after the deadline.
      await new Promise((r) => setTimeout(r, 1200));
      expect(await lease.acquireOrRenew()).toBe(true);
      await new Promise((r) => setTimeout(r, 1600));
      expect(leadership.signal.aborted).toBe(false);
      expect(lease.remainingMs()).toBeGreaterThan(0);
    } finally {
      leadership.stop();
    }
  });

  it("a healthy leader keeps its lease through a pass longer than the lease", async () => {
    const lease = new Lease(db.pool, { name: "t7", holder: "a", ttlSeconds: 1 });
    expect(await lease.acquireOrRenew()).toBe(true);
    const leadership = holdLeadership(lease, 1, quiet);
    try {
      // A sleep: the pass "runs" past its 1 s lease, and past the deadline armed at the start (0.83 s).
      await new Promise((r) => setTimeout(r, 1500));
      expect(leadership.signal.aborted).toBe(false);
      expect(lease.remainingMs()).toBeGreaterThan(0);
    } finally {
      leadership.stop();
    }
  });
});
