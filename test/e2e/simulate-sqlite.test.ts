/**
 * `simulate` on the app's SQLite file: it reads the active rows on a read-only connection (the file and its
 * folder are left byte for byte as they were, before migrate as after it), and `audit --apply` against the
 * simulators ends the "ended" Twilio calls in the file, in the rows' own text format, with the duration.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppFile, readAppFile, seedAppFile } from "../../src/dev/app-sqlite.js";
import { APP_TABLE_SETTINGS, type AppCall, pythonIsoformat } from "../../src/dev/app-table.js";
import { type CliResult, runCli, startCli, watchOutput } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";

const hex = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 32);
const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("call-reconciler simulate on the app's SQLite file (the built CLI)", () => {
  let dir: string;
  let path: string;
  let env: Record<string, string>;
  const calls: AppCall[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "simulate-sqlite-"));
    path = join(dir, "call_history.db");
    env = { DATABASE_URL: `sqlite://${path}`, ...APP_TABLE_SETTINGS, OPENAI_PROBE: "off", LOG_LEVEL: "warn" };
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
    createAppFile(path);
    seedAppFile(path, calls);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs simulate until its banner, hands its exports to `use`, then stops it with SIGINT. */
  async function underSimulate<T>(
    args: string[],
    use: (vars: Record<string, string>, banner: string) => Promise<T>,
  ): Promise<{ result: T; stopped: CliResult }> {
    const run = startCli(["simulate", ...args], env);
    const out = watchOutput(run.child);
    try {
      await until("simulate's banner", () => out.stdout().includes("# Serving until"), 20_000);
      const line = /^export (.+)$/m.exec(out.stdout())?.[1] ?? "";
      const vars = Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
      const result = await use(vars, out.stdout());
      run.child.kill("SIGINT");
      return { result, stopped: await run.done };
    } catch (err) {
      run.child.kill("SIGINT");
      await run.done.catch(() => undefined);
      throw err;
    }
  }

  it("reads a file the daemon never migrated, and writes nothing to it or beside it", async () => {
    const before = { digest: digest(path), files: readdirSync(dir).sort() };
    const { stopped, result: banner } = await underSimulate([], async (_vars, banner) => banner);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(banner).toMatch(/^# simulating 40 active rows of calls /m);
    expect({ digest: digest(path), files: readdirSync(dir).sort() }).toEqual(before);
  });

  it("mirrors the rows, and audit --apply ends the ended Twilio calls in the file, in the rows' own format", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const before = digest(path);
    const { stopped, result: applied } = await underSimulate(
      ["--live", "0.5", "--ended", "0.5", "--unknown", "0"],
      async (vars) => {
        // Nothing written by simulate itself, on the migrated file either.
        expect(digest(path)).toBe(before);
        return runCli(["audit", "--apply", "--json"], { ...env, ...vars });
      },
    );
    expect(stopped.code, stopped.stderr).toBe(0);
    expect([0, 3], applied.stderr).toContain(applied.code);
    const report = JSON.parse(applied.stdout) as { calls: { callId: string; outcome: string }[] };
    const endedIds = report.calls.filter((c) => c.outcome === "ended").map((c) => c.callId);
    expect(endedIds.length).toBeGreaterThan(0);
    const ended = readAppFile(
      path,
      calls.map((c) => c.callId),
    ).filter((r) => r.status !== "active");
    expect(ended.map((r) => r.callId).sort()).toEqual(endedIds.sort());
    for (const r of ended) {
      // Only Twilio's word ends a call in one audit; realtime absences need a second sighting.
      expect(r.callId).toMatch(/^CA/);
      expect(r.status).toBe("completed");
      expect(r.endedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(r.endedAt).toBe(pythonIsoformat(new Date(`${r.endedAt}Z`)));
      expect(r.durationSeconds).not.toBeNull();
    }
  });
});
