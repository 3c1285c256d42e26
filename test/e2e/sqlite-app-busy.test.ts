/**
 * The app holds its SQLite file's write lock past SQLITE_BUSY_TIMEOUT_MS while `audit --apply` would end a call:
 * the end, its audit row and its cause are not written (nothing half-done), the command says so in its report
 * and one log line, without a stack trace; once the app lets go, the next --apply ends the call.
 */
import { DatabaseSync } from "@photostructure/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { seedAppFile } from "../../src/dev/app-sqlite.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli, startCli, watchOutput } from "../helpers/cli.js";
import { actionRows, asWritten, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = `AC${"e".repeat(32)}`;
const TOKEN = "sqlite-busy-token-0123456789";

describe("the app holding its SQLite file's lock while the daemon ends a call (built CLI)", () => {
  let f: E2eFile | undefined;
  let twilio: TwilioSimulator | undefined;
  afterAll(async () => {
    await twilio?.close();
    f?.remove();
  });

  it("nothing of the end is written while the app holds the lock too long; the next --apply ends it", async () => {
    f = e2eFile("sqlite-busy-e2e-");
    const file = f;
    const sid = fakeCallSid("sqlite-busy");
    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000 + 321);
    const end = new Date(Math.floor(startedAt.getTime() / 1000) * 1000 + 64_000);
    seedAppFile(file.path, [
      {
        callId: sid,
        callType: "outbound",
        status: "active",
        startedAt,
        endedAt: null,
        durationSeconds: null,
      },
    ]);
    twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    twilio.upsertCall({
      sid,
      status: "completed",
      startTime: new Date(end.getTime() - 61_000),
      endTime: end,
      duration: "61",
    });
    const env = {
      ...file.env,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_STRATEGY: "per-call",
      OPENAI_PROBE: "off",
      DIAGNOSIS_REQUEST_SHARE: "0",
      SQLITE_BUSY_TIMEOUT_MS: "500",
      LOG_LEVEL: "warn",
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const row = () => file.query<Record<string, unknown>>("SELECT * FROM calls WHERE call_id = ?", sid)[0];
    const before = { ...row() };

    // Twilio's answer comes once the app has taken the lock, and the app keeps it until the audit has given up
    // writing the end (the batch, then the call alone).
    twilio.setFault(sid, { kind: "delay", ms: 1000 });
    const audit = startCli(["audit", "--apply", "--json"], env, 60_000);
    const out = watchOutput(audit.child);
    await until("Twilio asked about the call", () => twilio?.stats.fetches === 1);
    const app = new DatabaseSync(file.path, { timeout: 5_000 });
    try {
      app.exec("BEGIN IMMEDIATE");
      await until("the audit gave up the end", () =>
        out.stderr().includes('"msg":"could not end zombie call'),
      );
    } finally {
      if (app.isTransaction) app.exec("COMMIT");
      app.close();
    }
    const r = await audit.done;
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { summary: Record<string, unknown> };
    expect(report.summary).toMatchObject({ ended: 0, writeFailures: 1 });
    expect(r.stderr).toContain("stayed locked by another connection for 500 ms (SQLITE_BUSY_TIMEOUT_MS)");
    expect({ ...row() }).toEqual(before);
    expect(actionRows(file)).toEqual([]);
    expect(file.query("SELECT call_id FROM call_reconciler_causes")).toEqual([]);

    twilio.setFault(sid, undefined);
    const again = await runCli(["audit", "--apply", "--json"], env, 60_000);
    expect(again.code, again.stderr).toBe(0);
    expect({ ...row() }).toEqual({
      ...before,
      status: "completed",
      ended_at: asWritten(end),
      duration_seconds: 61,
    });
    expect(actionRows(file)).toMatchObject([{ call_id: sid, outcome: "ended" }]);
  });
});
