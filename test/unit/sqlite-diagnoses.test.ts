import { afterEach, describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { SqliteDiagnosisQueue } from "../../src/sqlite/diagnoses.js";
import { type AppFile, appFile, endRequest, sid } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

const STARTED = new Date("2026-12-06T08:00:00Z");

describe("SqliteDiagnosisQueue", () => {
  it("a Twilio end is due when Twilio's records are readable; settled once; retried later; counted", async () => {
    f = await appFile();
    for (const n of [1, 2, 3]) f.insert({ id: sid(n), startedAt: pythonIsoformat(STARTED) });
    f.insert({ id: "rtc_1", startedAt: pythonIsoformat(STARTED) });
    let now = new Date("2026-12-06T08:02:00Z");
    const store = f.store({ clock: () => now, twilioAccount: "AC0001" });
    const page = await store.listActivePage(null, now, 10);
    // Ended just now: each due 15 minutes after its end.
    await store.endCalls(
      page.rows.map((call, i) =>
        endRequest(call, {
          source: call.twilioSid === null ? "openai" : "twilio",
          endedAt: new Date(STARTED.getTime() + 60_000 + i * 1000),
          decidedAt: now,
        }),
      ),
    );
    const queue = new SqliteDiagnosisQueue(f.file, () => now);
    expect(await queue.due(10)).toEqual([]);
    expect(await queue.backlog()).toEqual({ queued: 3, due: 0 });
    now = new Date("2026-12-06T08:16:00.500Z");
    const due = await queue.due(10);
    expect(due).toEqual([
      {
        callId: sid(1),
        callSid: sid(1),
        accountSid: "AC0001",
        direction: "outbound-api",
        startedAt: STARTED,
        providerEndedAt: new Date("2026-12-06T08:01:00Z"),
        attempts: 0,
      },
    ]);
    expect(await queue.backlog()).toEqual({ queued: 3, due: 1 });
    await queue.settle(sid(1), "webhook_failed", { code: 11200 });
    // Settled once: a later settle or retry never overwrites it.
    await queue.settle(sid(1), "unknown", null);
    await queue.retry(sid(1), new Date("2026-12-06T09:00:00Z"), "late");
    now = new Date("2026-12-06T08:30:00Z");
    expect((await queue.due(1)).map((d) => d.callId)).toEqual([sid(2)]);
    await queue.retry(sid(2), new Date("2026-12-06T09:00:00Z"), "x".repeat(600));
    expect((await queue.due(10)).map((d) => [d.callId, d.attempts])).toEqual([[sid(3), 0]]);
    expect(await queue.backlog()).toEqual({ queued: 2, due: 1 });
    const rows = f.app
      .prepare(
        "SELECT call_id, cause, detail, attempts, length(last_error) AS error_length, due_at, diagnosed_at FROM call_reconciler_causes WHERE call_id IN (?, ?) ORDER BY call_id",
      )
      .all(sid(1), sid(2));
    expect(rows).toEqual([
      {
        call_id: sid(1),
        cause: "webhook_failed",
        detail: '{"code":11200}',
        attempts: 1,
        error_length: null,
        due_at: null,
        diagnosed_at: "2026-12-06T08:16:00.500Z",
      },
      {
        call_id: sid(2),
        cause: null,
        detail: null,
        attempts: 1,
        error_length: 500,
        due_at: "2026-12-06T09:00:00.000Z",
        diagnosed_at: null,
      },
    ]);
  });
});
