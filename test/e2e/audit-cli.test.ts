import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { runCli } from "../helpers/cli.js";
import { mismatches, type SeededWorld, seededWorld } from "../helpers/scenario.js";

describe("audit on a real Postgres and the Twilio simulator (the built CLI)", () => {
  let world: SeededWorld;
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it("a dry run reports every zombie with Twilio's end time, writes nothing and exits 1", async () => {
    const r = await runCli(["audit", "--json"], world.env);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.dryRun).toBe(true);
    const zombies = world.scenario.filter((c) => c.expect === "end_twilio" || c.expect === "end_age_bound");
    expect(report.summary.zombies.total).toBe(zombies.length);
    for (const z of zombies) {
      const found = report.calls.find((c: { callId: string }) => c.callId === z.row.id);
      expect(found, z.row.id).toMatchObject({
        decision: "end",
        outcome: "would_end",
        newStatus: z.expectedStatus,
        endedAt: z.expectedEndedAt?.toISOString(),
      });
    }
    // One sighting of a gone realtime session is not enough in a one-shot audit.
    const unverified = world.scenario
      .filter((c) => c.expect === "unverified" || c.expect === "end_openai_second_pass")
      .map((c) => c.row.id);
    expect(
      report.calls
        .filter((c: { decision: string }) => c.decision === "unverified")
        .map((c: { callId: string }) => c.callId)
        .sort(),
    ).toEqual(unverified.sort());
    expect(mismatches(world.scenario, await world.rows(), false)).toEqual([]);
    expect(await readActions(world.db.pool, world.config.calls)).toEqual([]);
  });

  it("--apply ends exactly the confirmed zombies with the provider's true end time, once", async () => {
    const r = await runCli(["audit", "--apply"], world.env);
    // Unverified rows remain (404, 500, unknown status, realtime-only): exit 3.
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("APPLIED");
    expect(mismatches(world.scenario, await world.rows(), true)).toEqual([]);

    const actions = await readActions(world.db.pool, world.config.calls);
    const ended = world.scenario.filter((c) => c.expect === "end_twilio" || c.expect === "end_age_bound");
    expect(actions.map((a) => a.callId).sort()).toEqual(ended.map((c) => c.row.id).sort());
    for (const a of actions) {
      const c = ended.find((e) => e.row.id === a.callId);
      expect(a).toMatchObject({
        previousStatus: "active",
        newStatus: c?.expectedStatus,
        endedAt: c?.expectedEndedAt,
        source: c?.expect === "end_age_bound" ? "age_bound" : "twilio",
      });
      expect(a.evidence).toHaveProperty("twilio");
    }
    // A live call is never touched, however old.
    const live = await world.rows();
    for (const c of world.scenario.filter((s) => s.expect === "keep")) {
      expect(live.get(c.row.id)).toMatchObject({ status: "active", endedAt: null });
    }

    // Level-triggered: a second pass finds nothing more to do and writes nothing.
    const again = await runCli(["audit", "--apply", "--json"], world.env);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout).summary.zombies.total).toBe(0);
    expect((await readActions(world.db.pool, world.config.calls)).length).toBe(actions.length);
  });

  it("prints a readable table with the decision and the end time", async () => {
    const r = await runCli(["audit"], world.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CALL ID\s+AGE\s+TWILIO\s+OPENAI\s+DECISION\s+END TIME/);
    const completed = world.scenario.find((c) => c.kind === "zombie (completed)");
    const line = r.stdout.split("\n").find((l) => l.startsWith(completed?.row.id ?? "?"));
    expect(line).toContain("would end → completed (twilio)");
    expect(line).toContain(completed?.expectedEndedAt?.toISOString().replace(".000", ""));
    expect(r.stdout).toMatch(/unverified: not_found/);
    expect(r.stdout).toMatch(/checked \d+ active calls, 16 live, 28 zombies/);
  });

  it("exits 0 when there is nothing to do", async () => {
    await runCli(["audit", "--apply"], world.env);
    // Only unverified rows are left; with the minimum age raised past them, nothing is listed.
    const r = await runCli(["audit"], { ...world.env, MIN_CALL_AGE_SECONDS: "86000" });
    expect(r.stdout).toContain("0 zombies");
    expect(r.code).toBe(0);
  });

  it("a webhook that ended the call first is never overwritten", async () => {
    const zombie = world.scenario.find((c) => c.kind === "zombie (completed)");
    if (!zombie) throw new Error("scenario has no completed zombie");
    const webhookEnd = new Date("2026-01-01T00:00:00Z");
    await world.db.pool.query(
      "UPDATE calls SET status = 'completed-by-webhook', ended_at = $2 WHERE call_id = $1",
      [zombie.row.id, webhookEnd],
    );
    await runCli(["audit", "--apply"], world.env);
    const row = (await world.rows()).get(zombie.row.id);
    expect(row).toMatchObject({ status: "completed-by-webhook", endedAt: webhookEnd });
    const actions = await readActions(world.db.pool, world.config.calls);
    expect(actions.find((a) => a.callId === zombie.row.id)).toBeUndefined();
  });

  it("finished rows carrying an active status: audit --apply refuses to start, in one line, and touches nothing", async () => {
    const kinds = ["zombie (completed)", "zombie (older than 24 h, no provider)"];
    const rows = kinds.map((kind) => {
      const c = world.scenario.find((s) => s.kind === kind);
      if (!c) throw new Error(`scenario has no ${kind}`);
      return c.row.id;
    });
    const earlierEnd = new Date("2026-01-01T00:00:00.123Z");
    await world.db.pool.query("UPDATE calls SET ended_at = $2 WHERE call_id = ANY($1)", [rows, earlierEnd]);
    const before = await world.rows();
    const r = await runCli(["audit", "--apply"], world.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'ACTIVE_STATUSES includes "active", which 2 finished rows (with an end time in ended_at, CALLS_COL_ENDED_AT) carry: remove it from ACTIVE_STATUSES',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await world.rows()).toEqual(before);
    expect(await readActions(world.db.pool, world.config.calls)).toEqual([]);
  });

  it("never writes a secret to its output", async () => {
    const r = await runCli(["audit", "--apply", "--json"], { ...world.env, LOG_LEVEL: "trace" });
    expect(r.stderr.length).toBeGreaterThan(0);
    for (const secret of [world.env.TWILIO_AUTH_TOKEN, new URL(world.db.url).password].filter((s) => s)) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
  });
});
