/**
 * The app's calls table as a Python app defines it: start and end times as naive UTC text
 * (`datetime.utcnow().isoformat()`). Through the built CLI, a real database and the Twilio simulator: a row
 * whose start is text that names no time is listed, left unverified (`invalid_time`) and named by the dry run;
 * doctor counts it; the zombie beside it is ended with its end written in the column's own format.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, zombie } from "../helpers/chaos-world.js";
import { runCli } from "../helpers/cli.js";
import { sid } from "../helpers/matrix.js";

/** `d` as Python's `datetime.utcnow().isoformat()` writes it (no fraction when the microsecond is 0). */
const python = (d: Date): string => {
  const whole = d.toISOString().slice(0, 19);
  const ms = d.toISOString().slice(20, 23);
  return ms === "000" ? whole : `${whole}.${ms}000`;
};

describe("a calls table with ISO 8601 text start and end columns", () => {
  let w: ChaosWorld;
  const z = zombie("py-zombie", 120);

  beforeAll(async () => {
    w = await chaosWorld([], [z.call], {
      env: { LOG_LEVEL: "warn", CALLS_TIME_ZONE: "UTC" },
      beforeSeed: async (db) => {
        await db.pool.query("ALTER TABLE calls ALTER started_at TYPE text, ALTER ended_at TYPE text");
      },
    });
    const rows: [string, string | null, string][] = [
      [z.row.id, sid(z.row.id), python(z.row.startedAt)],
      // Ended by the app already: its text tells the format ends are written in.
      ["py-history", null, "2026-01-05T10:00:00.123456"],
      // February has no 30th: text of the right shape that names no time.
      ["py-feb30", sid("py-feb30"), "2026-02-30T10:00:00"],
    ];
    for (const [id, callSid, started] of rows) {
      await w.db.pool.query(
        "INSERT INTO calls (call_id, twilio_call_sid, status, started_at) VALUES ($1, $2, 'active', $3)",
        [id, callSid, started],
      );
    }
    await w.db.pool.query(
      "UPDATE calls SET status = 'completed', ended_at = '2026-01-05T10:03:00.654321' WHERE call_id = 'py-history'",
    );
  });
  afterAll(async () => {
    await w?.close();
  });

  it("the dry run names the row whose start names no time as invalid_time, and fails nothing", async () => {
    const r = await runCli(["audit", "--json"], w.env);
    expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
    // A zombie left as it is (a dry run) comes before the unverified row in the exit codes.
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      summary: { unverified: Record<string, number> };
      calls: { callId: string; reason?: string; outcome?: string }[];
    };
    expect(report.summary.unverified).toEqual({ invalid_time: 1, total: 1 });
    expect(report.calls.find((c) => c.callId === "py-feb30")?.reason).toBe("invalid_time");
    expect(report.calls.find((c) => c.callId === z.row.id)?.outcome).toBe("would_end");
  });

  it("doctor warns of it, with the value", async () => {
    const r = await runCli(["doctor", "--json"], { ...w.env, OPENAI_PROBE: "off" });
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; state: string; detail: string }[] })
      .checks;
    expect(checks.find((c) => c.name === "start times")).toEqual({
      name: "start times",
      state: "warn",
      detail:
        '1 active rows have a started_at that names no time (e.g. "2026-02-30T10:00:00"): they are never ended',
    });
  });

  it("audit --apply writes the zombie's end as the column's rows write theirs, and leaves the bad row", async () => {
    const r = await runCli(["audit", "--apply", "--json"], w.env);
    expect(r.code, r.stderr).toBe(3);
    const { rows } = await w.db.pool.query<{ call_id: string; status: string; ended_at: string | null }>(
      "SELECT call_id, status, ended_at FROM calls WHERE call_id <> 'py-history' ORDER BY call_id",
    );
    const written = `${z.endedAt.toISOString().slice(0, 19)}.${z.endedAt.toISOString().slice(20, 23)}000`;
    expect(rows).toEqual([
      { call_id: "py-feb30", status: "active", ended_at: null },
      { call_id: z.row.id, status: "completed", ended_at: written },
    ]);
  });
});
