import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { writeGuard } from "../../src/daemon/leadership.js";
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
    const canWrite = writeGuard(lease, 10, quiet);
    expect(await lease.acquireOrRenew()).toBe(true);
    // Plenty of lease left: writes go ahead without asking the database.
    clock = 4_000;
    expect(await canWrite()).toBe(true);
    // Past half the lease it renews first; with the database gone the renewal fails, so: no more writes,
    // 4 s before the lease could have passed to anyone else.
    await pool.end();
    clock = 6_000;
    expect(await canWrite()).toBe(false);
    expect(lease.remainingMs()).toBeLessThan(0);
  });

  it("a leader whose lease was taken over stops writing", async () => {
    let clock = 0;
    const lease = new Lease(db.pool, { name: "t5", holder: "a", ttlSeconds: 1, now: () => clock });
    const canWrite = writeGuard(lease, 1, quiet);
    expect(await lease.acquireOrRenew()).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await new Lease(db.pool, { name: "t5", holder: "b", ttlSeconds: 60 }).acquireOrRenew()).toBe(true);
    clock = 600;
    expect(await canWrite()).toBe(false);
  });
});
