/**
 * Rows of the app's table that hold no time a call can have: a start of `-infinity` (PostgreSQL's timestamptz
 * accepts it, and pg hands it back as a number, not a Date). Through the built CLI and a real database: the
 * row is unverified (`invalid_time`), never ended, not counted against Twilio, and the command exits as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, zombie } from "../helpers/chaos-world.js";
import { runCli } from "../helpers/cli.js";
import { sid } from "../helpers/matrix.js";

describe("audit over rows whose start is no time", () => {
  let w: ChaosWorld;
  const control = zombie("control", 120);
  const minusInfinity = zombie("minus-infinity", 120);

  beforeAll(async () => {
    w = await chaosWorld([control.row], [control.call, minusInfinity.call], { env: { LOG_LEVEL: "warn" } });
    await w.db.pool.query(
      "INSERT INTO calls (call_id, twilio_call_sid, status, started_at) VALUES ('minus-infinity', $1, 'active', '-infinity')",
      [sid("minus-infinity")],
    );
  });
  afterAll(async () => {
    await w?.close();
  });

  it("audit --apply ends the control zombie only; the -infinity row is unverified invalid_time, untouched", async () => {
    const r = await runCli(["audit", "--apply", "--json"], w.env);
    expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
    // Some call could not be verified: exit 3.
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as {
      summary: { ended: number; unverified: Record<string, number> };
      calls: { callId: string; reason?: string }[];
    };
    expect(report.summary.ended).toBe(1);
    expect(report.summary.unverified).toEqual({ invalid_time: 1, total: 1 });
    expect(report.calls.find((c) => c.callId === "minus-infinity")?.reason).toBe("invalid_time");
    const { rows } = await w.db.pool.query<{ status: string; ended_at: Date | null }>(
      "SELECT status, ended_at FROM calls WHERE call_id = 'minus-infinity'",
    );
    expect(rows).toEqual([{ status: "active", ended_at: null }]);
    // The human table prints too.
    const table = await runCli(["audit"], w.env);
    expect(table.stderr, table.stderr).not.toMatch(/^\s+at /m);
    expect(table.code).toBe(3);
    expect(table.stdout).toContain("minus-infinity");
  });
});
