/**
 * The daemon's state (holds, sightings, audit trail) belongs to one calls table. A trial on a copy of the table
 * with a schema of its own never holds or ends the real rows; with the real table's schema it is refused before
 * it writes anything; an install that had state before the binding existed is bound to the table it serves.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, zombie } from "../helpers/chaos-world.js";
import { type CliResult, runCli } from "../helpers/cli.js";

const ids = ["bt-1", "bt-2"];

async function worldWithCopy(): Promise<ChaosWorld> {
  const zombies = ids.map((id) => zombie(id, 30));
  const w = await chaosWorld(
    zombies.map((z) => z.row),
    zombies.map((z) => z.call),
    { env: { LOG_LEVEL: "warn" } },
  );
  await w.db.pool.query("CREATE TABLE calls_trial (LIKE calls INCLUDING ALL)");
  await w.db.pool.query("INSERT INTO calls_trial SELECT * FROM calls");
  return w;
}

const statuses = async (w: ChaosWorld, table: string) =>
  Object.fromEntries(
    (
      await w.db.pool.query<{ call_id: string; status: string }>(`SELECT call_id, status FROM ${table}`)
    ).rows.map((r) => [r.call_id, r.status]),
  );

const currentHolds = async (w: ChaosWorld, schema: string) =>
  (
    await w.db.pool.query<{ call_id: string }>(
      `SELECT call_id FROM ${schema}.call_reconciler_holds WHERE released_at IS NULL ORDER BY call_id`,
    )
  ).rows.map((r) => r.call_id);

const binding = async (w: ChaosWorld, schema: string) =>
  (await w.db.pool.query(`SELECT calls_schema, calls_table FROM ${schema}.call_reconciler_binding`)).rows;

/** audit --json: the exit code and the report. */
async function audit(env: Record<string, string>, args: string[] = []) {
  const r = await runCli(["audit", "--json", ...args], env);
  expect(r.stderr).toBe("");
  return { code: r.code, report: JSON.parse(r.stdout) as { runId: string; summary: { ended: number } } };
}

/** Refused at start-up: exit 2 and one line on stderr. */
function refusal(r: CliResult, what: string): string {
  expect(r.code, `${what}: ${r.stderr}${r.stdout}`).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, what).toHaveLength(1);
  return lines[0] as string;
}

describe("the daemon's state is bound to one calls table (the built CLI, real PostgreSQL)", () => {
  let world: ChaosWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a hold and a revert on a copy with its own schema leave the real rows to a pass on the real table", async () => {
    const w = await worldWithCopy();
    world = w;
    const trial = { ...w.env, CALLS_TABLE: "calls_trial", RECONCILER_SCHEMA: "reconciler_trial" };
    const migrated = await runCli(["migrate"], trial);
    expect(migrated.stderr).toBe("");
    expect(migrated.stdout).toMatch(/^created schema reconciler_trial$/m);

    expect((await runCli(["hold", "bt-1"], trial)).code).toBe(0);
    const applied = await audit(trial, ["--apply"]);
    expect(applied.report.summary.ended).toBe(1);
    const revert = await runCli(["revert", "--run", applied.report.runId, "--apply"], trial);
    expect(revert.stderr).toBe("");
    expect(revert.code).toBe(0);
    expect(await currentHolds(w, "reconciler_trial")).toEqual(["bt-1", "bt-2"]);
    expect(await statuses(w, "calls_trial")).toEqual({ "bt-1": "active", "bt-2": "active" });
    expect(await binding(w, "reconciler_trial")).toEqual([
      { calls_schema: "public", calls_table: "calls_trial" },
    ]);

    // The real table's own pass: nothing of the trial holds its rows back.
    expect(await currentHolds(w, "public")).toEqual([]);
    const real = await audit(w.env, ["--apply"]);
    expect(real.code).toBe(0);
    expect(real.report.summary.ended).toBe(2);
    expect(await statuses(w, "calls")).toEqual({ "bt-1": "completed", "bt-2": "completed" });
    expect(await binding(w, "public")).toEqual([{ calls_schema: "public", calls_table: "calls" }]);
  });

  it("an install with state from before the binding is bound to its table; a copy in its schema is refused, writing nothing", async () => {
    const w = await worldWithCopy();
    world = w;
    // As an earlier release left it: no binding table, a hold placed by hand.
    await w.db.pool.query("DROP TABLE call_reconciler_binding");
    await w.db.pool.query("DELETE FROM call_reconciler_migrations WHERE name = 'calls table binding'");
    await w.db.pool.query(
      "INSERT INTO call_reconciler_holds (call_id, held_by) VALUES ('bt-1', 'hold:ops@host')",
    );
    const migrated = await runCli(["migrate"], w.env);
    expect(migrated.stdout).toMatch(/^applied migrations: \d+ in schema public$/m);
    expect(await binding(w, "public")).toEqual([]);

    const doctorBefore = await runCli(["doctor", "--json"], { ...w.env, OPENAI_PROBE: "off" });
    expect(doctorBefore.stdout).toMatch(
      /not bound yet: the first run, audit, hold or revert binds it to public\.calls/,
    );
    expect(await binding(w, "public")).toEqual([]);

    const first = await audit(w.env, ["--apply"]);
    expect(first.report.summary.ended).toBe(1);
    expect(await binding(w, "public")).toEqual([{ calls_schema: "public", calls_table: "calls" }]);
    expect(await statuses(w, "calls")).toEqual({ "bt-1": "active", "bt-2": "completed" });

    const snapshot = async () => ({
      holds: (await w.db.pool.query("SELECT * FROM call_reconciler_holds ORDER BY id")).rows,
      actions: (await w.db.pool.query("SELECT id FROM call_reconciler_actions ORDER BY id")).rows,
      sightings: (await w.db.pool.query("SELECT * FROM call_reconciler_sightings")).rows,
      leases: (await w.db.pool.query("SELECT * FROM call_reconciler_leases")).rows,
      binding: await binding(w, "public"),
      trial: await statuses(w, "calls_trial"),
    });
    const before = await snapshot();
    const copy = { ...w.env, CALLS_TABLE: "calls_trial" };
    for (const args of [
      ["audit"],
      ["audit", "--apply"],
      ["hold", "bt-2"],
      ["release", "bt-1"],
      ["revert", "--run", first.report.runId, "--apply"],
      ["report"],
      ["run"],
    ]) {
      const line = refusal(await runCli(args, copy), args.join(" "));
      expect(line, args.join(" ")).toMatch(
        /RECONCILER_SCHEMA public holds the daemon's state \(holds, sightings, audit trail\) of public\.calls, not of public\.calls_trial \(CALLS_TABLE=calls_trial\)/,
      );
      expect(line).toContain("RECONCILER_SCHEMA=reconciler_trial, then `call-reconciler migrate`");
      expect(line).toContain(
        `UPDATE "public"."call_reconciler_binding" SET calls_schema = 'public', calls_table = 'calls_trial'`,
      );
    }
    const doctor = await runCli(["doctor", "--json"], { ...copy, OPENAI_PROBE: "off" });
    expect(doctor.code).toBe(2);
    const checks = (
      JSON.parse(doctor.stdout) as { checks: { name: string; state: string; detail: string }[] }
    ).checks;
    expect(checks.find((c) => c.name === "state")).toMatchObject({
      state: "fail",
      detail: expect.stringMatching(
        /holds the daemon's state .* of public\.calls, not of public\.calls_trial/,
      ),
    });
    expect(await snapshot()).toEqual(before);

    const real = await runCli(["doctor", "--json"], { ...w.env, OPENAI_PROBE: "off" });
    expect(real.stdout).toMatch(/the daemon's state in schema public belongs to public\.calls \(since /);
  });

  it("a renamed table is refused with the statement that re-binds it, and works once it is run", async () => {
    const w = await worldWithCopy();
    world = w;
    expect((await audit(w.env)).code).toBe(1);
    await w.db.pool.query("ALTER TABLE calls RENAME TO calls_v2");
    const renamed = { ...w.env, CALLS_TABLE: "calls_v2" };
    const line = refusal(await runCli(["audit"], renamed), "audit");
    const statement = /re-bind as the tables' owner: (UPDATE .*)$/.exec(line)?.[1];
    expect(statement).toBe(
      `UPDATE "public"."call_reconciler_binding" SET calls_schema = 'public', calls_table = 'calls_v2'`,
    );
    await w.db.pool.query(statement as string);
    const applied = await audit(renamed, ["--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.report.summary.ended).toBe(2);
  });
});
