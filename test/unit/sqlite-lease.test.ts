import { afterEach, describe, expect, it } from "vitest";
import { SqliteFile } from "../../src/sqlite/file.js";
import { SqliteLease } from "../../src/sqlite/lease.js";
import { type AppFile, appFile } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
const opened: SqliteFile[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
  f?.close();
  f = undefined;
});

/** A replica: its own connection to the file, its own monotonic clock, the host's clock shared. */
function replica(file: AppFile, holder: string, clock: () => Date, mono: () => number): SqliteLease {
  const own = new SqliteFile(file.path, { busyTimeoutMs: 1_000 });
  opened.push(own);
  return new SqliteLease(own, file.config.calls, { holder, ttlSeconds: 30, clock, now: mono });
}

describe("SqliteLease", () => {
  it("one of two replicas holds it; the other takes over once it expires, or at once when released", async () => {
    f = await appFile({ CALLS_TABLE: "main.calls" });
    let hostMs = Date.parse("2026-12-06T10:00:00Z");
    let mono = 1_000;
    const clock = () => new Date(hostMs);
    const a = replica(f, "a", clock, () => mono);
    const b = replica(f, "b", clock, () => mono);
    expect(await a.leaseName()).toBe("reconcile:main.calls");
    expect(await a.acquireOrRenew()).toBe(true);
    expect(await b.acquireOrRenew()).toBe(false);
    expect(a.remainingMs()).toBe(30_000);
    expect(b.remainingMs()).toBeLessThan(0);
    expect(await b.currentHolder()).toEqual({
      holder: "a",
      expiresAt: new Date(hostMs + 30_000),
      secondsLeft: 30,
    });
    // Renewed by its holder: still a's, for longer.
    hostMs += 20_000;
    mono += 20_000;
    expect(await a.acquireOrRenew()).toBe(true);
    hostMs += 20_000;
    mono += 20_000;
    expect(await b.acquireOrRenew()).toBe(false);
    // a stops renewing: past its expiry, b takes it over, and a's next renewal fails.
    hostMs += 10_001;
    mono += 10_001;
    expect(await b.acquireOrRenew()).toBe(true);
    expect(await a.acquireOrRenew()).toBe(false);
    expect(a.remainingMs()).toBeLessThan(0);
    expect((await a.currentHolder())?.holder).toBe("b");
    // b hands it back: a takes it at once.
    await b.release();
    expect(b.remainingMs()).toBeLessThan(0);
    expect(await a.currentHolder()).toBeNull();
    expect(await a.acquireOrRenew()).toBe(true);
    const row = f.app.prepare("SELECT name, holder FROM call_reconciler_leases").all();
    expect(row).toEqual([{ name: "reconcile:main.calls", holder: "a" }]);
  });

  it("a release by a replica that never asked writes nothing; drop forgets leadership locally", async () => {
    f = await appFile();
    const clock = () => new Date("2026-12-06T10:00:00Z");
    const a = replica(f, "a", clock, () => 0);
    await a.release();
    expect(f.app.prepare("SELECT count(*) AS n FROM call_reconciler_leases").get()).toEqual({ n: 0 });
    expect(await a.acquireOrRenew()).toBe(true);
    a.drop();
    expect(a.remainingMs()).toBeLessThan(0);
    expect((await a.currentHolder())?.holder).toBe("a");
  });
});
