import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteCausesBook } from "../../src/sqlite/causes-report.js";
import { type AppFile, appFile } from "../helpers/sqlite-app-file.js";

let f: AppFile;
beforeEach(async () => {
  f = await appFile();
});
afterEach(() => f.close());

const RUN = "11111111-1111-4111-8111-111111111111";

function cause(callId: string, endedHereAt: string, extra: { cause?: string | null; runId?: string } = {}) {
  f.app
    .prepare(
      `INSERT INTO call_reconciler_causes (call_id, run_id, source, call_sid, account_sid, direction,
        provider_status, started_at, provider_ended_at, ended_here_at, cause, detail, due_at, attempts,
        last_error, diagnosed_at)
      VALUES (?, ?, 'twilio', ?, 'AC1', 'inbound', 'completed', '2026-12-06T10:00:00.000Z', '2026-12-06T10:05:00.000Z',
        ?, ?, ?, NULL, 1, NULL, ?)`,
    )
    .run(
      callId,
      extra.runId ?? RUN,
      callId,
      endedHereAt,
      extra.cause ?? null,
      extra.cause == null ? null : JSON.stringify({ events: 2 }),
      extra.cause == null ? null : "2026-12-06T11:10:00.000Z",
    );
}

function action(callId: string, outcome: "ended" | "reverted", reverts: number | null = null): number {
  const row = f.app
    .prepare(
      `INSERT INTO call_reconciler_actions (run_id, call_id, previous_status, new_status, ended_at, source,
        evidence, decided_at, recorded_at, outcome, reverts)
      VALUES (?, ?, ?, ?, ?, 'twilio', ?, '2026-12-06T11:00:00.000Z', '2026-12-06T11:00:00.000Z', ?, ?) RETURNING id`,
    )
    .get(
      outcome === "ended" ? RUN : "revert-run",
      callId,
      outcome === "ended" ? "active" : "completed",
      outcome === "ended" ? "completed" : "active",
      outcome === "ended" ? "2026-12-06T10:05:00.000Z" : null,
      JSON.stringify({ twilio: { kind: "ended" } }),
      outcome,
      reverts,
    ) as { id: number };
  return row.id;
}

describe("SqliteCausesBook", () => {
  it("reads the causes since a time, one call's cause, and whether its end was reverted", async () => {
    cause("CA1", "2026-12-06T11:00:00.000Z", { cause: "webhook-failed" });
    cause("CA2", "2026-12-06T12:00:00.000Z");
    cause("CA0", "2026-12-05T12:00:00.000Z");
    const end = action("CA2", "ended");
    action("CA2", "reverted", end);
    action("CA1", "ended");
    const book = new SqliteCausesBook(f.file);

    const since = await book.since(new Date("2026-12-06T00:00:00Z"));
    expect(since.map((c) => [c.callId, c.reverted])).toEqual([
      ["CA1", false],
      ["CA2", true],
    ]);
    expect(since[0]).toEqual({
      callId: "CA1",
      source: "twilio",
      callSid: "CA1",
      accountSid: "AC1",
      direction: "inbound",
      providerStatus: "completed",
      startedAt: new Date("2026-12-06T10:00:00Z"),
      providerEndedAt: new Date("2026-12-06T10:05:00Z"),
      endedHereAt: new Date("2026-12-06T11:00:00Z"),
      cause: "webhook-failed",
      detail: { events: 2 },
      attempts: 1,
      lastError: null,
      diagnosedAt: new Date("2026-12-06T11:10:00Z"),
      reverted: false,
    });
    expect(await book.of("CA2")).toMatchObject({ callId: "CA2", cause: null, detail: null, reverted: true });
    expect(await book.of("CA404")).toBeNull();
  });

  it("a revert of another run's end leaves this run's cause unreverted", async () => {
    cause("CA1", "2026-12-06T11:00:00.000Z", { runId: "later-run" });
    const end = action("CA1", "ended");
    action("CA1", "reverted", end);
    expect((await new SqliteCausesBook(f.file).of("CA1"))?.reverted).toBe(false);
  });

  it("tells a call's story from its audit rows, oldest first", async () => {
    const end = action("CA1", "ended");
    action("CA1", "reverted", end);
    expect(await new SqliteCausesBook(f.file).actionsOf("CA1")).toEqual([
      {
        runId: RUN,
        previousStatus: "active",
        newStatus: "completed",
        endedAt: new Date("2026-12-06T10:05:00Z"),
        source: "twilio",
        decidedAt: new Date("2026-12-06T11:00:00Z"),
        outcome: "ended",
        evidence: { twilio: { kind: "ended" } },
      },
      expect.objectContaining({ runId: "revert-run", outcome: "reverted", endedAt: null }),
    ]);
    expect(await new SqliteCausesBook(f.file).actionsOf("CA404")).toEqual([]);
  });
});
