import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, hoursAgo, liveCall, zombie } from "../helpers/chaos-world.js";
import { runCli } from "../helpers/cli.js";
import { activeRow, sid } from "../helpers/matrix.js";

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

interface ActionRow {
  id: string;
  run_id: string;
  call_id: string;
  previous_status: string;
  new_status: string;
  ended_at: Date | null;
  source: string;
  outcome: string;
  reverts: string | null;
}

const actions = async (w: ChaosWorld): Promise<ActionRow[]> =>
  (
    await w.db.pool.query<ActionRow>(
      `SELECT id::text, run_id::text, call_id, previous_status, new_status, ended_at, source, outcome,
         reverts::text FROM call_reconciler_actions ORDER BY id`,
    )
  ).rows;

const currentHolds = async (w: ChaosWorld) =>
  (
    await w.db.pool.query<{ call_id: string; held_by: string; reason: string | null; run_id: string | null }>(
      "SELECT call_id, held_by, reason, run_id::text FROM call_reconciler_holds WHERE released_at IS NULL ORDER BY call_id",
    )
  ).rows;

/** audit --json: the exit code and the report. */
async function audit(w: ChaosWorld, args: string[], env: Record<string, string> = {}) {
  const r = await runCli(["audit", "--json", ...args], { ...w.env, ...env });
  noStack(r.stderr);
  const report = JSON.parse(r.stdout) as {
    runId: string;
    outcome: string;
    summary: { ended: number; unverified: Record<string, number> };
    calls: { callId: string; decision: string; reason?: string; evidence: unknown }[];
  };
  return { code: r.code, report };
}

describe("revert, hold and release (the built CLI, real PostgreSQL, the Twilio simulator)", () => {
  let world: ChaosWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("reverts a run's ends, leaves what the app wrote since, and the daemon never ends a held call", async () => {
    const zombies = ["rv-1", "rv-2", "rv-3"].map((id) => zombie(id, 30));
    const live = liveCall("rv-live", 30);
    const w = await chaosWorld(
      [...zombies.map((z) => z.row), live.row],
      [...zombies.map((z) => z.call), live.call],
    );
    world = w;
    const ids = zombies.map((z) => z.row.id);

    const applied = await audit(w, ["--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.report.summary.ended).toBe(3);
    const runId = applied.report.runId;

    // Dry run: lists every end of the run with what it would restore, writes nothing, exits 1.
    const dry = await runCli(["revert", "--run", runId], w.env);
    expect(dry.code).toBe(1);
    for (const id of ids) {
      const line = dry.stdout.split("\n").find((l) => l.startsWith(id)) ?? "";
      expect(line, id).toContain("would restore → active, ended_at NULL, held");
      expect(line).toContain("completed");
    }
    expect(dry.stdout).toContain("DRY RUN");
    const dryJson = JSON.parse((await runCli(["revert", "--run", runId, "--json"], w.env)).stdout);
    expect(dryJson).toMatchObject({ dryRun: true, run: runId, summary: { would_restore: 3 } });
    expect(dryJson.calls[0]).toMatchObject({
      outcome: "would_restore",
      restore: { status: "active", endedAt: null },
    });
    for (const z of zombies)
      expect((await w.rows(ids)).get(z.row.id)).toMatchObject({ status: "completed", endedAt: z.endedAt });
    expect(await actions(w)).toHaveLength(3);
    expect(await currentHolds(w)).toEqual([]);

    // The app writes one of them in between.
    const appEnd = new Date("2026-01-01T00:00:00Z");
    await w.db.pool.query("UPDATE calls SET status = 'completed-by-app', ended_at = $2 WHERE call_id = $1", [
      "rv-2",
      appEnd,
    ]);

    const revert = await runCli(["revert", "--run", runId, "--apply"], w.env);
    noStack(revert.stderr);
    expect(revert.code).toBe(3);
    expect(revert.stdout.split("\n").find((l) => l.startsWith("rv-2"))).toContain("left as it is");
    const rows = await w.rows(ids);
    expect(rows.get("rv-1")).toMatchObject({ status: "active", endedAt: null });
    expect(rows.get("rv-3")).toMatchObject({ status: "active", endedAt: null });
    expect(rows.get("rv-2")).toMatchObject({ status: "completed-by-app", endedAt: appEnd });
    const after = await actions(w);
    const ends = after.filter((a) => a.outcome === "ended");
    const reverted = after.filter((a) => a.outcome === "reverted");
    expect(reverted.map((a) => a.call_id).sort()).toEqual(["rv-1", "rv-3"]);
    for (const a of reverted) {
      expect(a).toMatchObject({ previous_status: "completed", new_status: "active", ended_at: null });
      expect(a.reverts).toBe(ends.find((e) => e.call_id === a.call_id)?.id);
      expect(a.run_id).not.toBe(runId);
    }
    expect(await currentHolds(w)).toMatchObject([
      { call_id: "rv-1", run_id: runId },
      { call_id: "rv-3", run_id: runId },
    ]);

    // Again: nothing more is written; the app's row is still left.
    const again = await runCli(["revert", "--run", runId, "--apply", "--json"], w.env);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout).summary).toMatchObject({ already_reverted: 2, changed: 1, restored: 0 });
    expect(await actions(w)).toHaveLength(5);

    // report: the reverted ends are counted apart, not as zombies ended.
    const reported = await runCli(["report", "--json"], w.env);
    expect(JSON.parse(reported.stdout)).toMatchObject({ zombies: 1, reverted: 2 });
    expect((await runCli(["report"], w.env)).stdout).toMatch(/: 1\nreverted: 2 \(/);
    const story = await runCli(["report", "--call", "rv-1"], w.env);
    expect(story.stdout.split("\n")[0]).toMatch(/\(end reverted\)$/);

    // Held: past the age bound and confirmed over at Twilio, still not asked about nor ended.
    w.twilio.resetStats();
    const held = await audit(w, ["--apply"], { MAX_CALL_DURATION_SECONDS: "600" });
    expect(held.code).toBe(3);
    expect(held.report.summary).toMatchObject({ ended: 0, unverified: { held: 2 } });
    expect(held.report.outcome).toBe("success");
    expect(
      held.report.calls
        .filter((c) => c.reason === "held")
        .map((c) => c.callId)
        .sort(),
    ).toEqual(["rv-1", "rv-3"]);
    expect(w.twilio.stats.fetches).toBe(1);
    expect((await w.rows(["rv-1", "rv-3"])).get("rv-1")).toMatchObject({ status: "active", endedAt: null });
    const table = await runCli(["audit"], w.env);
    expect(table.stdout.split("\n").find((l) => l.startsWith("rv-1"))).toMatch(
      /held\s+held\s+unverified: held/,
    );

    // Released, it is judged again and ended; the other stays held.
    const release = await runCli(["release", "rv-1"], w.env);
    expect(release.code).toBe(0);
    expect(release.stdout).toContain("call rv-1 released");
    const next = await audit(w, ["--apply"]);
    expect(next.report.summary.ended).toBe(1);
    const final = await w.rows(ids);
    expect(final.get("rv-1")).toMatchObject({ status: "completed", endedAt: zombies[0]?.endedAt });
    expect(final.get("rv-3")).toMatchObject({ status: "active", endedAt: null });
    expect((await currentHolds(w)).map((h) => h.call_id)).toEqual(["rv-3"]);

    // One call's last end can be reverted too.
    const byCall = await runCli(["revert", "--call", "rv-1", "--apply"], w.env);
    expect(byCall.code).toBe(0);
    expect((await w.rows(["rv-1"])).get("rv-1")).toMatchObject({ status: "active", endedAt: null });
    expect((await currentHolds(w)).map((h) => h.call_id)).toEqual(["rv-1", "rv-3"]);
  });

  it("a hold by hand protects a call from the age bound until it is released", async () => {
    // Unknown to Twilio (404) and older than MAX_CALL_DURATION_SECONDS: the age bound would end it.
    const old = activeRow("hd-old", hoursAgo(25), { sid: sid("hd-old") });
    const z = zombie("hd-zombie", 30);
    const w = await chaosWorld([old, z.row], [z.call]);
    world = w;

    const hold = await runCli(["hold", "hd-old", "--reason", "investigating"], w.env);
    expect(hold.code).toBe(0);
    expect(hold.stdout).toContain("call hd-old is held");
    expect(await currentHolds(w)).toMatchObject([{ call_id: "hd-old", reason: "investigating" }]);
    expect((await runCli(["hold", "hd-old"], w.env)).stdout).toContain("already held");
    const unknown = await runCli(["hold", "no-such-call"], w.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^call-reconciler: hold: no call no-such-call in calls/);
    noStack(unknown.stderr);

    const first = await audit(w, ["--apply"]);
    expect(first.code).toBe(3);
    expect(first.report.summary).toMatchObject({ ended: 1, unverified: { held: 1 } });
    expect(first.report.calls.find((c) => c.callId === "hd-old")).toMatchObject({
      decision: "unverified",
      reason: "held",
      evidence: { twilio: { kind: "skipped", why: "held" }, openai: { kind: "skipped", why: "held" } },
    });
    expect((await w.rows(["hd-old"])).get("hd-old")).toMatchObject({ status: "active", endedAt: null });

    expect((await runCli(["release", "hd-old"], w.env)).code).toBe(0);
    const notHeld = await runCli(["release", "hd-old"], w.env);
    expect(notHeld.code).toBe(0);
    expect(notHeld.stdout).toContain("not held");

    const second = await audit(w, ["--apply"]);
    expect(second.code).toBe(0);
    expect((await w.rows(["hd-old"])).get("hd-old")).toMatchObject({ status: "timeout" });
    const ended = (await actions(w)).find((a) => a.call_id === "hd-old");
    expect(ended).toMatchObject({ source: "age_bound", outcome: "ended" });
    // The released hold stays as history.
    const history = await w.db.pool.query(
      "SELECT released_by FROM call_reconciler_holds WHERE call_id = 'hd-old'",
    );
    expect(history.rows[0]?.released_by).toMatch(/^release:/);
  });

  it("bad usage and unknown ids: one line, exit 2; every command has --help", async () => {
    const w = await chaosWorld([], []);
    world = w;
    for (const args of [
      ["revert", "--help"],
      ["hold", "--help"],
      ["release", "--help"],
    ]) {
      const r = await runCli(args, {});
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: call-reconciler /);
    }
    const cases: [string[], RegExp][] = [
      [["revert"], /revert: give exactly one of --run <run-id> and --call <call-id>/],
      [["revert", "--run", "x", "--call", "y"], /give exactly one of/],
      [["revert", "--run", "yesterday"], /--run takes a run id \(a UUID/],
      [
        ["revert", "--run", "00000000-0000-4000-8000-000000000000"],
        /no run 00000000-0000-4000-8000-000000000000/,
      ],
      [["revert", "--call", "nobody"], /no call nobody in calls/],
      [["hold"], /hold: give exactly one call id/],
      [["release", "a", "b"], /release: give exactly one call id/],
      [["revert", "--run"], /revert: Option '--run <value>' argument missing/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, w.env);
      expect(r.code, args.join(" ")).toBe(2);
      noStack(r.stderr);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
