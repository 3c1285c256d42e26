import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { SqliteHoldBook } from "../../src/sqlite/holds.js";
import { SqliteRevertBook } from "../../src/sqlite/revert.js";
import { APP_MAPPING, type AppFile, appFile, insertCall } from "../helpers/sqlite-app-file.js";

let f: AppFile;
beforeEach(async () => {
  f = await appFile();
});
afterEach(() => f.close());

const RUN = "11111111-1111-4111-8111-111111111111";
const REVERT_RUN = "22222222-2222-4222-8222-222222222222";
const started = new Date("2026-12-06T10:00:00.250Z");
const clock = () => new Date("2026-12-06T12:00:00.000Z");

/**
 * What an end leaves: the row ended in the app's own format, and its audit row (outcome `ended`). Returns
 * the audit row id.
 */
function ended(
  id: string,
  opts: { endedAt: Date; duration?: number | null; status?: string; runId?: string; source?: string },
): string {
  const duration = opts.duration ?? null;
  const status = opts.status ?? "completed";
  f.app
    .prepare("UPDATE calls SET status = ?, ended_at = ?, duration_seconds = ? WHERE call_id = ?")
    .run(status, pythonIsoformat(opts.endedAt), duration, id);
  const row = f.app
    .prepare(
      `INSERT INTO call_reconciler_actions (run_id, call_id, previous_status, previous_ended_at, new_status,
        provider_status, ended_at, duration_seconds, previous_duration_seconds, source, evidence, decided_at,
        recorded_at, outcome)
      VALUES (?, ?, 'active', NULL, ?, 'completed', ?, ?, NULL, ?, '{}', ?, ?, 'ended') RETURNING id`,
    )
    .get(
      opts.runId ?? RUN,
      id,
      status,
      opts.endedAt.toISOString(),
      duration,
      opts.source ?? "twilio",
      "2026-12-06T11:00:00.000Z",
      "2026-12-06T11:00:00.000Z",
    ) as { id: number };
  return String(row.id);
}

const callRow = (id: string) =>
  f.app.prepare("SELECT status, ended_at, duration_seconds FROM calls WHERE call_id = ?").get(id);

describe("SqliteRevertBook", () => {
  it("reads a run's ends in audit order, a page at a time, its outcomes, and a call's last end", async () => {
    for (const id of ["CA1", "CA2", "CA3"]) insertCall(f.app, { id, startedAt: started });
    const a1 = ended("CA1", { endedAt: new Date("2026-12-06T10:01:00Z"), duration: 60 });
    const a2 = ended("CA2", { endedAt: new Date("2026-12-06T10:02:00.5Z"), source: "age-bound" });
    ended("CA3", { endedAt: new Date("2026-12-06T10:03:00Z"), runId: "other-run" });
    const book = new SqliteRevertBook(f.file, APP_MAPPING, clock);

    expect(await book.runOutcomes(RUN)).toEqual({ ended: 2 });
    expect(await book.runOutcomes("no-such-run")).toEqual({});
    const first = await book.runEnds(RUN, "0", 1);
    expect(first).toEqual([
      {
        auditId: a1,
        runId: RUN,
        callId: "CA1",
        previousStatus: "active",
        previousEndedAt: null,
        newStatus: "completed",
        endedAt: new Date("2026-12-06T10:01:00Z"),
        durationSeconds: 60,
        previousDurationSeconds: null,
        source: "twilio",
        revertedBy: null,
        revertedAt: null,
      },
    ]);
    const second = await book.runEnds(RUN, a1, 1);
    expect(second.map((e) => [e.auditId, e.source])).toEqual([[a2, "age-bound"]]);
    expect(await book.runEnds(RUN, a2, 1)).toEqual([]);
    expect((await book.lastEndOf("CA2"))?.auditId).toBe(a2);
    expect(await book.lastEndOf("CA404")).toBeNull();
  });

  it("restores exactly what the end wrote, only where the row is still as written, once, and holds it", async () => {
    for (const id of ["CA1", "CA2", "CA3", "CA4"]) insertCall(f.app, { id, startedAt: started });
    const endedAt = new Date("2026-12-06T10:01:00.123Z");
    ended("CA1", { endedAt, duration: 60.123 });
    ended("CA2", { endedAt });
    ended("CA3", { endedAt, duration: 12 });
    ended("CA4", { endedAt });
    // Since the end, the app changed CA3's length and CA4's status: those are not the end's to undo.
    f.app.prepare("UPDATE calls SET duration_seconds = 13 WHERE call_id = 'CA3'").run();
    f.app.prepare("UPDATE calls SET status = 'failed' WHERE call_id = 'CA4'").run();
    const book = new SqliteRevertBook(f.file, APP_MAPPING, clock);
    const ends = await book.runEnds(RUN, "0", 100);
    const [e1, e2, e3, e4] = ends.map((e) => e.auditId);

    const before = await book.states(ends);
    expect(before.get(e1 as string)).toEqual({
      present: true,
      status: "completed",
      endedAt,
      asWritten: true,
      revertedBy: null,
    });
    expect(before.get(e3 as string)?.asWritten).toBe(false);
    expect(before.get(e4 as string)?.asWritten).toBe(false);

    const { restored, states } = await book.restore(ends, REVERT_RUN, "ops@host");
    expect([...restored].sort()).toEqual([e1, e2].sort());
    expect(callRow("CA1")).toEqual({ status: "active", ended_at: null, duration_seconds: null });
    expect(callRow("CA2")).toEqual({ status: "active", ended_at: null, duration_seconds: null });
    expect(callRow("CA3")).toEqual({
      status: "completed",
      ended_at: pythonIsoformat(endedAt),
      duration_seconds: 13,
    });
    expect(callRow("CA4")).toMatchObject({ status: "failed", ended_at: pythonIsoformat(endedAt) });
    expect(states.get(e1 as string)).toEqual({
      present: true,
      status: "active",
      endedAt: null,
      asWritten: false,
      revertedBy: REVERT_RUN,
    });
    expect(states.get(e3 as string)).toMatchObject({
      asWritten: false,
      revertedBy: null,
      status: "completed",
    });

    const audit = f.app
      .prepare(
        `SELECT run_id, call_id, previous_status, previous_ended_at, new_status, ended_at, source, evidence,
          outcome, detail, CAST(reverts AS TEXT) AS reverts, previous_duration_seconds, duration_seconds
        FROM call_reconciler_actions WHERE outcome = 'reverted' ORDER BY id`,
      )
      .all();
    expect(audit).toEqual([
      {
        run_id: REVERT_RUN,
        call_id: "CA1",
        previous_status: "completed",
        previous_ended_at: endedAt.toISOString(),
        new_status: "active",
        ended_at: null,
        source: "twilio",
        evidence: JSON.stringify({
          reverted: {
            auditId: Number(e1),
            runId: RUN,
            status: "completed",
            endedAt: endedAt.toISOString(),
            source: "twilio",
          },
          by: "ops@host",
        }),
        outcome: "reverted",
        detail: `revert of run ${RUN} by ops@host`,
        reverts: e1,
        previous_duration_seconds: 60.123,
        duration_seconds: null,
      },
      expect.objectContaining({ call_id: "CA2", reverts: e2, previous_duration_seconds: null }),
    ]);

    const holds = new SqliteHoldBook(f.file, APP_MAPPING);
    expect(await holds.current("CA1")).toEqual({
      callId: "CA1",
      reason: `end reverted (run ${RUN})`,
      heldBy: "revert:ops@host",
      runId: RUN,
      heldAt: clock(),
    });
    expect(await holds.current("CA3")).toBeNull();

    // The run's ends read again carry their revert; a second revert restores nothing.
    const again = await book.runEnds(RUN, "0", 100);
    expect(again[0]).toMatchObject({ revertedBy: REVERT_RUN, revertedAt: clock() });
    const second = await book.restore(again, "33333333-3333-4333-8333-333333333333", "ops@host");
    expect(second.restored.size).toBe(0);
    const reverted = f.app
      .prepare("SELECT count(*) AS n FROM call_reconciler_actions WHERE outcome = 'reverted'")
      .get();
    expect(reverted).toEqual({ n: 2 });
  });

  it("leaves a row whose end time the app rewrote since; the same instant spelt otherwise is still the end's", async () => {
    insertCall(f.app, { id: "CA1", startedAt: started });
    insertCall(f.app, { id: "CA2", startedAt: started });
    const endedAt = new Date("2026-12-06T10:01:00.123Z");
    ended("CA1", { endedAt, duration: 60 });
    ended("CA2", { endedAt, duration: 60 });
    f.app.prepare("UPDATE calls SET ended_at = '2026-12-06T10:01:01.000000' WHERE call_id = 'CA1'").run();
    f.app.prepare("UPDATE calls SET ended_at = '2026-12-06T10:01:00.123+00:00' WHERE call_id = 'CA2'").run();
    const book = new SqliteRevertBook(f.file, APP_MAPPING, clock);
    const ends = await book.runEnds(RUN, "0", 10);
    const { restored, states } = await book.restore(ends, REVERT_RUN, "ops@host");
    expect([...restored]).toEqual([ends[1]?.auditId]);
    expect(states.get(ends[0]?.auditId as string)).toEqual({
      present: true,
      status: "completed",
      endedAt: new Date("2026-12-06T10:01:01Z"),
      asWritten: false,
      revertedBy: null,
    });
    expect(callRow("CA1")).toMatchObject({ status: "completed", ended_at: "2026-12-06T10:01:01.000000" });
    expect(callRow("CA2")).toEqual({ status: "active", ended_at: null, duration_seconds: null });
  });

  it("restores a call held by hand and keeps that hold as it was", async () => {
    insertCall(f.app, { id: "CA1", startedAt: started });
    ended("CA1", { endedAt: new Date("2026-12-06T10:01:00Z") });
    const holds = new SqliteHoldBook(f.file, APP_MAPPING, clock);
    const byHand = await holds.hold("CA1", { reason: "disputed", heldBy: "ops@host" });
    const book = new SqliteRevertBook(f.file, APP_MAPPING, clock);
    const { restored } = await book.restore(await book.runEnds(RUN, "0", 10), REVERT_RUN, "ops@host");
    expect(restored.size).toBe(1);
    expect(await holds.current("CA1")).toEqual(byHand.hold);
  });

  it("says a deleted row is gone", async () => {
    insertCall(f.app, { id: "CA1", startedAt: started });
    ended("CA1", { endedAt: new Date("2026-12-06T10:01:00Z") });
    f.app.prepare("DELETE FROM calls WHERE call_id = 'CA1'").run();
    const book = new SqliteRevertBook(f.file, APP_MAPPING, clock);
    const ends = await book.runEnds(RUN, "0", 10);
    const { restored, states } = await book.restore(ends, REVERT_RUN, "ops@host");
    expect(restored.size).toBe(0);
    expect(states.get(ends[0]?.auditId as string)).toEqual({
      present: false,
      status: null,
      endedAt: null,
      asWritten: false,
      revertedBy: null,
    });
  });
});
