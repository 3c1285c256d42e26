/**
 * Quiet by default: the daemon logs a summary per pass, not a line per call, and a one-shot `audit` prints its
 * table, not logs, unless LOG_LEVEL asks for them (a missing provider is one plain warning line, not a log line).
 * On real PostgreSQL and the simulators, through the built CLI.
 */
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { CLI, type CliResult, runCli, startCli, watchOutput } from "../helpers/cli.js";
import { endedBy, type SeededWorld, seededWorld } from "../helpers/scenario.js";
import { until } from "../helpers/wait.js";

const PER_CALL = /call unverified|zombie call ended|zombie found|orphaned realtime session hung up/;

/** The built CLI with exactly `env` (no LOG_LEVEL unless given), to completion. */
function runBare(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

const jsonLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: number; msg: string; callId?: string });

// OpenAI's too: the seeded world has a realtime call past OPENAI_MAX_SESSION_SECONDS, a pass warning of its own.
const CREDENTIALS = new Set([
  "TWILIO_ACCOUNT_SID",
  "TWILIO_AUTH_TOKEN",
  "TWILIO_API_KEY",
  "TWILIO_API_SECRET",
  "OPENAI_API_KEY",
]);
const withoutProviders = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !CREDENTIALS.has(name)));
const NO_TWILIO =
  "Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN unset): rows with a Call SID stay unverified";

describe("quiet by default (the built CLI)", () => {
  let world: SeededWorld;
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it("run at the default level: one summary a pass, no line per call", async () => {
    const { child, done } = startCli(["run"], {
      ...world.env,
      RECONCILE_INTERVAL_SECONDS: "1",
      LOG_LEVEL: "info",
    });
    const zombies = endedBy(world.scenario, true).length;
    await until(
      "all zombies ended",
      async () => (await readActions(world.db.pool, world.config.calls)).length === zombies,
    );
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stderr);
    const passes = lines.filter((l) => l.msg === "pass finished").length;
    expect(passes).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => PER_CALL.test(l.msg)).map((l) => l.msg)).toEqual([]);
    expect(lines.filter((l) => l.level <= 30 && l.callId !== undefined)).toEqual([]);
    // The scenario has ~50 calls; what remains is start-up, shutdown and one summary a pass.
    expect(lines.length).toBeLessThanOrEqual(passes + 12);
  });

  it("audit without LOG_LEVEL prints its table and no info lines; LOG_LEVEL=debug shows each call", async () => {
    const quiet = await runBare(["audit"], world.env);
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).toMatch(/CALL ID\s+AGE/);
    expect(jsonLines(quiet.stderr).filter((l) => l.level <= 30)).toEqual([]);

    const verbose = await runCli(["audit"], { ...world.env, LOG_LEVEL: "debug" });
    expect(verbose.code).toBe(1);
    expect(jsonLines(verbose.stderr).some((l) => l.msg === "call unverified")).toBe(true);
  });

  it("without provider credentials, audit warns in one readable line and no JSON; run keeps its JSON line", async () => {
    const env = withoutProviders(world.env);
    const audit = await runBare(["audit"], env);
    expect(audit.stdout).toMatch(/CALL ID\s+AGE/);
    expect(audit.stderr.split("\n").filter((l) => l !== "")).toEqual([
      `call-reconciler: warning: ${NO_TWILIO}`,
    ]);

    const { child, done } = startCli(["run"], { ...env, LOG_LEVEL: "info" });
    const out = watchOutput(child);
    await until("the daemon's first pass", async () => out.stderr().includes('"pass finished"'));
    child.kill("SIGTERM");
    const run = await done;
    expect(run.stderr).not.toContain("call-reconciler: warning:");
    expect(jsonLines(run.stderr).filter((l) => l.msg === NO_TWILIO)).toHaveLength(1);
  });
});
