import { describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import type { ProviderProbes, TwilioEvidence } from "../../src/model/index.js";
import { runPass } from "../../src/reconcile/pass.js";
import { testPassDeps } from "../helpers/pass-deps.js";
import { appFile, sid } from "../helpers/sqlite-app.js";

const NOW = new Date("2026-12-06T12:00:00Z");
const MIN = 60_000;

/** Twilio's answer for a call that ended 80 minutes ago after 10 minutes and 3 seconds. */
const ENDED_AT = new Date(NOW.getTime() - 80 * MIN);
const completed: TwilioEvidence = {
  kind: "ended",
  status: "completed",
  endedAt: ENDED_AT,
  endTimeSource: "end_time",
  startedAt: new Date(ENDED_AT.getTime() - 603_000),
  durationSeconds: 603,
  direction: "outbound-api",
  raw: { start_time: null, end_time: ENDED_AT.toUTCString(), duration: "603", date_updated: null },
};

describe("a pass on the app's SQLite file", () => {
  it("ends the zombie Twilio confirms with its true end, keeps the live, held and unparseable rows", async () => {
    const f = await appFile();
    try {
      const started = pythonIsoformat(new Date(NOW.getTime() - 90 * MIN - 123));
      f.insert({ id: sid(1), startedAt: started });
      f.insert({ id: sid(2), startedAt: started });
      f.insert({ id: sid(3), startedAt: started });
      f.insert({ id: sid(4), startedAt: "yesterday" });
      f.app.exec(
        `INSERT INTO call_reconciler_holds (call_id, held_by, held_at) VALUES ('${sid(3)}', 'hold:t', '2026-12-06T11:00:00.000Z')`,
      );
      const asked: string[] = [];
      const probes: ProviderProbes = {
        twilio: {
          fetchCall: async (callSid) => {
            asked.push(callSid);
            return callSid === sid(1) ? completed : { kind: "live", status: "in-progress" };
          },
          listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
        },
        openai: null,
        hangupRealtime: null,
      };
      const store = f.store({ clock: () => NOW });
      const deps = testPassDeps(store, probes, { pageSize: 2 });
      const result = await runPass(deps, { runId: "00000000-0000-4000-8000-00000000000a", dryRun: false });
      expect(result.zombies).toEqual({ twilio: 1, openai: 0, age_bound: 0 });
      expect(asked.sort()).toEqual([sid(1), sid(2)]);
      const rows = f.app
        .prepare("SELECT call_id, status, ended_at, duration_seconds FROM calls ORDER BY call_id")
        .all();
      // In the shape the rows use (microseconds, naive UTC), the length as Twilio gave it.
      expect(rows).toEqual([
        {
          call_id: sid(1),
          status: "completed",
          ended_at: "2026-12-06T10:40:00.000000",
          duration_seconds: 603,
        },
        { call_id: sid(2), status: "active", ended_at: null, duration_seconds: null },
        { call_id: sid(3), status: "active", ended_at: null, duration_seconds: null },
        { call_id: sid(4), status: "active", ended_at: null, duration_seconds: null },
      ]);
      // Twice changes nothing the second time.
      const again = await runPass(deps, { runId: "00000000-0000-4000-8000-00000000000b", dryRun: false });
      expect(again.zombies).toEqual({ twilio: 0, openai: 0, age_bound: 0 });
      expect(f.app.prepare("SELECT count(*) AS n FROM call_reconciler_actions").get()).toEqual({ n: 1 });
    } finally {
      f.close();
    }
  });
});
