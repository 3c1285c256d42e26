/**
 * `simulate` on the app's own table, as it is: its active rows (Call SIDs and realtime ids in one column, text
 * times) are mirrored by the simulators, and `audit --apply` against them ends the "ended" ones with the
 * simulator's end time written back in the rows' own text format, with the duration.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_CALLS_TABLE_SQL,
  APP_TABLE_SETTINGS,
  type AppCall,
  pythonIsoformat,
  readAppCalls,
  seedAppCalls,
} from "../../src/dev/app-table.js";
import { runCli, startCli, watchOutput } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const hex = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 32);

describe("call-reconciler simulate on the app's own table (the built CLI, real Postgres)", () => {
  let db: FreshDatabase;
  let env: Record<string, string>;
  const calls: AppCall[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url, ...APP_TABLE_SETTINGS, OPENAI_PROBE: "off", LOG_LEVEL: "warn" };
    await db.pool.query(APP_CALLS_TABLE_SQL);
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (let i = 0; i < 40; i++) {
      const outbound = i % 4 !== 0;
      calls.push({
        callId: outbound ? `CA${hex(`call-${i}`)}` : `rtc_u1_${hex(`call-${i}`)}`,
        callType: outbound ? "outbound" : "inbound",
        status: "active",
        startedAt: new Date(now - (3600 + i * 60) * 1000),
        endedAt: null,
        durationSeconds: null,
      });
    }
    await seedAppCalls(db.pool, calls);
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("mirrors the rows, and audit --apply ends the ended Twilio calls in the rows' own format", async () => {
    const run = startCli(["simulate", "--live", "0.5", "--ended", "0.5", "--unknown", "0"], env);
    const out = watchOutput(run.child);
    try {
      await until("simulate's banner", () => out.stdout().includes("# Serving until"), 20_000);
      const line = /^export (.+)$/m.exec(out.stdout())?.[1] ?? "";
      const vars = Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
      const applied = await runCli(["audit", "--apply", "--json"], { ...env, ...vars });
      expect([0, 3], applied.stderr).toContain(applied.code);
      const report = JSON.parse(applied.stdout) as { calls: { callId: string; outcome: string }[] };
      const endedIds = report.calls.filter((c) => c.outcome === "ended").map((c) => c.callId);
      expect(endedIds.length).toBeGreaterThan(0);
      const rows = await readAppCalls(
        db.pool,
        calls.map((c) => c.callId),
      );
      const ended = rows.filter((r) => r.status !== "active");
      expect(ended.map((r) => r.callId).sort()).toEqual(endedIds.sort());
      for (const r of ended) {
        // Only Twilio's word ends a call in one audit; realtime absences need a second sighting.
        expect(r.callId).toMatch(/^CA/);
        expect(r.endedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
        expect(r.endedAt).toBe(pythonIsoformat(new Date(`${r.endedAt}Z`)));
        expect(r.durationSeconds).not.toBeNull();
      }
    } finally {
      run.child.kill("SIGINT");
      await run.done;
    }
  });
});
