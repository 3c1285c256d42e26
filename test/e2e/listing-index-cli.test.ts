import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, startCli, watchOutput } from "../helpers/cli.js";
import { type SeededWorld, seededWorld } from "../helpers/scenario.js";
import { until } from "../helpers/wait.js";

const STATEMENT =
  "CREATE INDEX CONCURRENTLY calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'";

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

const logLines = (stderr: string): LogLine[] =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);

const gauge = async (metricsUrl: string): Promise<string | undefined> =>
  (await (await fetch(`${metricsUrl}/metrics`)).text()).match(
    /^call_reconciler_listing_index_usable (\S+)$/m,
  )?.[1];

describe("the operator is told when no index serves the listing (the built CLI)", () => {
  let world: SeededWorld;
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it("audit warns and prints the statement to run without the index, and says nothing with it", async () => {
    const withIndex = await runCli(["audit"], world.env);
    expect(withIndex.code).toBe(1);
    expect(withIndex.stdout).not.toContain("CREATE INDEX");
    expect(withIndex.stderr).not.toContain("no index serves the listing");

    await world.db.pool.query("DROP INDEX calls_active_idx");
    const without = await runCli(["audit"], world.env);
    // The findings are the same; only the warning is added.
    expect(without.code).toBe(1);
    expect(without.stdout).toContain("WARNING: no index serves the listing of active calls");
    expect(without.stdout).toContain(`  ${STATEMENT};`);
    const warned = logLines(without.stderr).filter((l) => l.statement !== undefined);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, statement: STATEMENT, table: "calls" });

    const json = await runCli(["audit", "--json"], world.env);
    expect(JSON.parse(json.stdout).listingIndex).toEqual({
      usable: false,
      index: null,
      statement: STATEMENT,
    });
    // The statement as printed is what the operator runs; then the next audit is quiet.
    await world.db.pool.query(STATEMENT);
    const fixed = await runCli(["audit", "--json"], world.env);
    expect(JSON.parse(fixed.stdout).listingIndex).toMatchObject({ usable: true, index: "calls_active_idx" });
  });

  it("run warns at start-up, exports the gauge, and notices the index once it is created", async () => {
    await world.db.pool.query("DROP INDEX calls_active_idx");
    const { child, done } = startCli(["run"], {
      ...world.env,
      DRY_RUN: "true",
      RECONCILE_INTERVAL_SECONDS: "1",
      LOG_LEVEL: "info",
    });
    const out = watchOutput(child);
    try {
      const metricsUrl = await until("the daemon started", () => {
        const url = logLines(out.stderr()).find((l) => l.msg === "call-reconciler started")?.metrics;
        return typeof url === "string" ? url : undefined;
      });
      const warning = logLines(out.stderr()).find((l) => l.statement !== undefined);
      expect(warning).toMatchObject({ level: 40, statement: STATEMENT });
      expect(await gauge(metricsUrl)).toBe("0");
      await world.db.pool.query(STATEMENT);
      await until(
        "the gauge says an index serves the listing",
        async () => (await gauge(metricsUrl)) === "1",
      );
      await until("the daemon says so", () =>
        logLines(out.stderr()).some((l) => l.msg === "an index now serves the listing of active calls"),
      );
      // Said once, not every pass.
      expect(logLines(out.stderr()).filter((l) => l.statement !== undefined)).toHaveLength(1);
    } finally {
      child.kill("SIGTERM");
      expect((await done).code).toBe(0);
    }
  });
});
