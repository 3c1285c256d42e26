/**
 * `simulate` on the app's SQLite file: its active rows (Call SIDs and realtime ids in one column, text times)
 * are mirrored by the simulators without a byte of the file changing, before `migrate` as after it; and
 * `audit --apply` against them ends the "ended" ones with the simulator's end time written back in the rows'
 * own text format, with the duration.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAppFile, seedAppFile } from "../../src/dev/app-sqlite.js";
import { type AppCall, pythonIsoformat } from "../../src/dev/app-table.js";
import { runCli, startCli, watchOutput } from "../helpers/cli.js";
import { type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const hex = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 32);

describe("call-reconciler simulate on the app's SQLite file (the built CLI)", () => {
  let f: E2eFile;
  let env: Record<string, string>;
  const calls: AppCall[] = [];
  const finished: AppCall[] = [];
  const bytes = () => createHash("sha256").update(readFileSync(f.path)).digest("hex");

  /** Starts `simulate`, waits for its banner, and gives the variables it exports and a way to stop it. */
  async function simulate() {
    const run = startCli(["simulate", "--live", "0.5", "--ended", "0.5", "--unknown", "0"], env);
    const out = watchOutput(run.child);
    await until("simulate's banner", () => out.stdout().includes("# Serving until"), 20_000);
    const line = /^export (.+)$/m.exec(out.stdout())?.[1] ?? "";
    const vars = Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
    return {
      out,
      vars,
      stop: async () => {
        run.child.kill("SIGINT");
        return run.done;
      },
    };
  }

  beforeAll(() => {
    f = e2eFile("sqlite-simulate-e2e-");
    env = { ...f.env, OPENAI_PROBE: "off", LOG_LEVEL: "warn" };
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (let i = 0; i < 40; i++) {
      const outbound = i % 4 !== 0;
      calls.push({
        callId: outbound ? `CA${hex(`sqlite-call-${i}`)}` : `rtc_u1_${hex(`sqlite-call-${i}`)}`,
        callType: outbound ? "outbound" : "inbound",
        status: "active",
        startedAt: new Date(now - (3600 + i * 60) * 1000),
        endedAt: null,
        durationSeconds: null,
      });
    }
    // The app's history: never mirrored.
    for (let i = 0; i < 5; i++) {
      const startedAt = new Date(now - (7200 + i * 60) * 1000);
      finished.push({
        callId: `CA${hex(`sqlite-done-${i}`)}`,
        callType: "outbound",
        status: "completed",
        startedAt,
        endedAt: new Date(startedAt.getTime() + 90_000),
        durationSeconds: 90,
      });
    }
    seedAppFile(f.path, [...calls, ...finished]);
  });
  afterAll(() => {
    f?.remove();
  });

  it("mirrors the active rows before migrate, writing nothing to the file", async () => {
    const before = bytes();
    const sim = await simulate();
    try {
      // Each active row is served by the provider its id names; the finished ones are not.
      expect(sim.out.stdout()).toContain(`# simulating ${calls.length} active rows of calls`);
      expect(sim.vars.TWILIO_API_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      expect(sim.vars.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      const r = await sim.stop();
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(bytes()).toBe(before);
  });

  it("audit --apply against the simulators ends the ended Twilio calls in the rows' own format", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const sim = await simulate();
    try {
      const applied = await runCli(["audit", "--apply", "--json"], { ...env, ...sim.vars });
      expect([0, 3], applied.stderr).toContain(applied.code);
      const report = JSON.parse(applied.stdout) as {
        summary: { checked: number };
        calls: { callId: string; outcome: string }[];
      };
      expect(report.summary.checked).toBe(calls.length);
      const endedIds = report.calls.filter((c) => c.outcome === "ended").map((c) => c.callId);
      expect(endedIds.length).toBeGreaterThan(0);
      const rows = readAppFile(
        f.path,
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
      const history = readAppFile(
        f.path,
        finished.map((c) => c.callId),
      );
      expect(history.map((h) => [h.callId, h.status, h.endedAt])).toEqual(
        [...finished]
          .sort((a, b) => a.callId.localeCompare(b.callId))
          .map((c) => [c.callId, "completed", pythonIsoformat(c.endedAt as Date)]),
      );
    } finally {
      await sim.stop();
    }
  });
});
