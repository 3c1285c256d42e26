import { describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { runCli } from "../helpers/cli.js";
import { seededReplicas } from "../helpers/replica.js";
import { endedBy, mismatches } from "../helpers/scenario.js";
import { until } from "../helpers/wait.js";

/** One writer: `audit --apply` takes the daemon's lease for its pass (docs/operations.md, "Commands and exit codes"). */
describe("audit --apply and the daemon's lease (the built CLI, real Postgres)", () => {
  const suite = seededReplicas();

  const lease = async () =>
    (
      await suite.world.db.pool.query<{ holder: string; expires_at: Date; live: boolean }>(
        "SELECT holder, expires_at, expires_at > now() AS live FROM call_reconciler_leases WHERE name = 'reconcile:public.calls'",
      )
    ).rows[0];
  const forcedFlags = async () =>
    (
      await suite.world.db.pool.query<{ forced: boolean }>("SELECT forced FROM call_reconciler_actions")
    ).rows.map((r) => r.forced);

  /** A daemon that leads but writes nothing (DRY_RUN), so every write seen is the audit's. */
  async function leadingDaemon(): Promise<string> {
    const r = suite.start({
      ...suite.world.env,
      DRY_RUN: "true",
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "30",
      LOG_LEVEL: "info",
    });
    const line = await until("the daemon leads", () =>
      r.lines().find((l) => l.msg === "became the leader: reconciling"),
    );
    return String(line.replica);
  }

  it("beside a leading daemon: exit 2, one line naming the holder and the expiry, nothing written", async () => {
    const holder = await leadingDaemon();
    const before = await suite.world.rows();
    const r = await runCli(["audit", "--apply"], suite.world.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^call-reconciler: audit --apply: another replica is reconciling/);
    expect(lines[0]).toContain(`held by ${holder} until `);
    const until_ = /until (\S+) \(in (\d+) s unless renewed\)/.exec(lines[0] ?? "");
    const expiry = new Date(until_?.[1] ?? "");
    expect(Math.abs(expiry.getTime() - ((await lease())?.expires_at.getTime() ?? 0))).toBeLessThan(5_000);
    expect(Number(until_?.[2])).toBeGreaterThan(0);
    expect(lines[0]).toContain("--force");
    expect(r.stderr).not.toMatch(/\n\s+at /);

    expect(await suite.world.rows()).toEqual(before);
    expect(await readActions(suite.world.db.pool, suite.world.config.calls)).toEqual([]);
    // The daemon still leads: the audit took nothing from it.
    expect((await lease())?.holder).toBe(holder);

    // A dry run needs no lease.
    const dry = await runCli(["audit", "--json"], suite.world.env);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout).dryRun).toBe(true);
  });

  it("the lease is the table's, however CALLS_TABLE spells it: `public.calls` beside a daemon on `calls` is refused", async () => {
    const holder = await leadingDaemon();
    const before = await suite.world.rows();
    const r = await runCli(["audit", "--apply"], { ...suite.world.env, CALLS_TABLE: "public.calls" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`lease reconcile:public.calls is held by ${holder} until `);
    expect(await suite.world.rows()).toEqual(before);
    expect(await readActions(suite.world.db.pool, suite.world.config.calls)).toEqual([]);
    expect((await lease())?.holder).toBe(holder);
  });

  it("--force writes beside the leader, without its lease, and marks every audit row forced", async () => {
    const holder = await leadingDaemon();
    const r = await runCli(["audit", "--apply", "--force"], suite.world.env);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("APPLIED");
    expect(r.stderr).toContain("writing without the lease");
    expect(r.stderr).toContain(holder);
    expect(mismatches(suite.world.scenario, await suite.world.rows(), true)).toEqual([]);
    const actions = await readActions(suite.world.db.pool, suite.world.config.calls);
    expect(actions).toHaveLength(endedBy(suite.world.scenario, false).length);
    expect(await forcedFlags()).toEqual(actions.map(() => true));
    expect((await lease())?.holder).toBe(holder);
  });

  it("--force without --apply is a usage error", async () => {
    const r = await runCli(["audit", "--force"], suite.world.env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "call-reconciler: audit: --force goes with --apply (a dry run takes no lease)",
    );
  });

  it("with no daemon: takes the lease, ends, hands it back; a daemon started right after leads at once", async () => {
    // A long lease: a daemon started after an audit that kept it would wait a minute.
    const env = { ...suite.world.env, LEADER_LEASE_SECONDS: "60", RECONCILE_INTERVAL_SECONDS: "20" };
    const r = await runCli(["audit", "--apply"], env);
    expect(r.code).toBe(3);
    expect(mismatches(suite.world.scenario, await suite.world.rows(), true)).toEqual([]);
    const actions = await readActions(suite.world.db.pool, suite.world.config.calls);
    expect(actions).toHaveLength(endedBy(suite.world.scenario, false).length);
    expect(await forcedFlags()).toEqual(actions.map(() => false));
    const after = await lease();
    expect(after?.holder).toMatch(/^audit:/);
    expect(after?.live).toBe(false);

    const started = Date.now();
    const d = suite.start({ ...env, LOG_LEVEL: "info" });
    await until(
      "the daemon leads",
      () => d.lines().some((l) => l.msg === "became the leader: reconciling"),
      10_000,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(d.lines().some((l) => l.msg === "standing by: another replica leads")).toBe(false);
  });
});
