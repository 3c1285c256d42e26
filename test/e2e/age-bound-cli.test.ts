/**
 * The age bound's blast radius through the built CLI: a pass that would end most of the active rows it saw on
 * the age bound alone ends none of them so and says why (exit 1: zombies left), and the operator who knows the
 * backlog is real ends it with `audit --apply --confirm-age-bound`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const OLD = 12;
const YOUNG = 3;

const noStack = (r: CliResult) => expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);

describe("audit --apply --confirm-age-bound", () => {
  let db: FreshDatabase;
  let env: Record<string, string>;
  const rows = async () =>
    (
      await db.pool.query<{ call_id: string; status: string; ended_at: Date | null; overdue: boolean }>(
        `SELECT call_id, status, ended_at, ended_at = started_at + interval '86400 seconds' AS overdue
           FROM calls ORDER BY call_id`,
      )
    ).rows;

  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url, LOG_LEVEL: "warn" };
    const migrated = await runCli(["migrate", "--with-calls-table"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    // A backlog after an outage: 12 rows days past the age bound beside 3 recent ones. No provider is
    // configured, so none can be confirmed; the old ones are ended only on the age bound, 12 of 15 seen.
    // Whole seconds: the end written is computed in milliseconds.
    await db.pool.query(
      `INSERT INTO calls (call_id, status, started_at)
       SELECT 'old-' || lpad(g::text, 2, '0'), 'active',
              date_trunc('second', now()) - interval '2 days' - g * interval '1 hour'
         FROM generate_series(1, $1::int) AS g`,
      [OLD],
    );
    await db.pool.query(
      `INSERT INTO calls (call_id, status, started_at)
       SELECT 'young-' || g, 'active', now() - g * interval '1 hour' FROM generate_series(1, $1::int) AS g`,
      [YOUNG],
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("without it, --apply ends none on the age bound, says why and how to confirm, and exits 1", async () => {
    const r = await runCli(["audit", "--apply"], env);
    noStack(r);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/APPLIED \(run /);
    expect(r.stdout.match(/held \(too many age-bound ends\) → timeout \(age_bound\)/g)).toHaveLength(OLD);
    expect(r.stdout).toContain(
      `${OLD} age-bound zombies NOT ended: this pass would end ${OLD} of the ${OLD + YOUNG} active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=0.5); check ACTIVE_STATUSES, or confirm with --confirm-age-bound`,
    );
    expect(r.stdout).toMatch(/, 0 ended,/);
    // Said once, in the log, with the command that confirms.
    const warnings = r.stderr.split("\n").filter((l) => l.includes("--confirm-age-bound"));
    expect(warnings, r.stderr).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ heldBack: OLD, dryRun: false });

    expect((await rows()).every((row) => row.status === "active" && row.ended_at === null)).toBe(true);
    const trail = await db.pool.query("SELECT 1 FROM call_reconciler_actions");
    expect(trail.rowCount).toBe(0);
  });

  it("with it, --apply ends the old ones on the age bound and leaves the young ones", async () => {
    const r = await runCli(["audit", "--apply", "--confirm-age-bound"], env);
    noStack(r);
    // 3: the young rows stay unverified (no provider can be asked); no zombie is left.
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout.match(/ended → timeout \(age_bound\)/g)).toHaveLength(OLD);
    expect(r.stdout).toMatch(new RegExp(`, ${OLD} ended,`));
    expect(r.stdout).not.toMatch(/NOT ended/);
    expect(r.stderr).toMatch(/age-bound ends written on the operator's confirmation \(--confirm-age-bound\)/);

    const after = await rows();
    expect(after.filter((row) => row.call_id.startsWith("old-"))).toEqual(
      Array.from({ length: OLD }, (_, i) => ({
        call_id: `old-${String(i + 1).padStart(2, "0")}`,
        status: "timeout",
        ended_at: expect.any(Date),
        overdue: true,
      })),
    );
    expect(after.filter((row) => row.call_id.startsWith("young-"))).toEqual(
      Array.from({ length: YOUNG }, (_, i) => ({
        call_id: `young-${i + 1}`,
        status: "active",
        ended_at: null,
        overdue: null,
      })),
    );
    const trail = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM call_reconciler_actions WHERE outcome = 'ended' AND source = 'age_bound'",
    );
    expect(trail.rows).toEqual([{ n: OLD }]);

    // The report names the age bound as the source and its time as a bound, not an end Twilio gave.
    const story = await runCli(["report", "--call", "old-01"], env);
    expect(story.code, story.stderr).toBe(0);
    expect(story.stdout).toMatch(
      /the call ended no later than this \(the age bound: no provider knew it; timeout\)/,
    );
    expect(story.stdout).not.toMatch(/Twilio/);
    const report = await runCli(["report"], env);
    expect(report.stdout).toMatch(/End times corrected: 12 calls lasted/);
    expect(report.stdout).toContain(`${OLD} of these end times are only bounds`);
  });
});
