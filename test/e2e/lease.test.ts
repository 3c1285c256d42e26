import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { holdLeadership } from "../../src/daemon/leadership.js";
import { Lease } from "../../src/db/lease.js";
import { migrate } from "../../src/db/migrate.js";
import { createPool } from "../../src/db/pool.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

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

  it("one holder at a time; renewals keep it; an expired lease passes to the next replica", async () => {
    const a = new Lease(db.pool, { name: "t1", holder: "a", ttlSeconds: 1 });
    const b = new Lease(db.pool, { name: "t1", holder: "b", ttlSeconds: 1 });
    expect(await a.acquireOrRenew()).toBe(true);
    expect(await b.acquireOrRenew()).toBe(false);
    expect(b.remainingMs()).toBeLessThan(0);
    expect(await a.acquireOrRenew()).toBe(true);
    expect(a.remainingMs()).toBeGreaterThan(500);
    // a dies without releasing: b takes over once the lease expired on the database's clock.
    await new Promise((r) => setTimeout(r, 1100));
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
    await new Promise((r) => setTimeout(r, 1100));
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
      await new Promise((r) => setTimeout(r, 1200));
      expect(await lease.acquireOrRenew()).toBe(true);
      await new Promise((r) => setTimeout(r, 2000));
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
      await new Promise((r) => setTimeout(r, 2500));
      expect(leadership.signal.aborted).toBe(false);
      expect(lease.remainingMs()).toBeGreaterThan(0);
    } finally {
      leadership.stop();
    }
  });
});
