import type { Config } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { readCalls, type StoredCall, seedCalls } from "../../src/dev/seed.js";
import { buildDemoScenario, type ScenarioCall } from "../../src/sim/demo-scenario.js";
import { startDemoSimulators } from "../../src/sim/demo-simulators.js";
import type { OpenAISimulator } from "../../src/sim/openai-sim.js";
import type { TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type FreshDatabase, freshDatabase } from "./db.js";

export interface SeededWorld {
  db: FreshDatabase;
  sim: TwilioSimulator;
  openai: OpenAISimulator;
  scenario: ScenarioCall[];
  config: Config;
  /** Environment for the CLI pointing at this database and simulator. */
  env: Record<string, string>;
  rows(): Promise<Map<string, StoredCall>>;
  close(): Promise<void>;
}

/** A fresh database with the default schema, the demo's incident seeded, and a simulator that knows it. */
export async function seededWorld(extraEnv: Record<string, string> = {}): Promise<SeededWorld> {
  const db = await freshDatabase();
  const scenario = buildDemoScenario(new Date());
  const sims = await startDemoSimulators(scenario);
  const { twilio: sim, openai } = sims;
  const env = {
    DATABASE_URL: db.url,
    ...sims.env,
    // The simulators take far more than the production defaults; fast passes keep the tests short.
    TWILIO_MAX_RPS: "200",
    OPENAI_MAX_RPS: "200",
    ...extraEnv,
  };
  const config = loadConfig(env);
  await migrate(db.pool, { withCallsTable: true, mapping: config.calls });
  await seedCalls(
    db.pool,
    config.calls,
    scenario.map((c) => c.row),
  );
  return {
    db,
    sim,
    openai,
    scenario,
    config,
    env,
    rows: async () =>
      new Map(
        (
          await readCalls(
            db.pool,
            config.calls,
            scenario.map((c) => c.row.id),
          )
        ).map((r) => [r.id, r]),
      ),
    close: async () => {
      await sims.close();
      await db.drop();
    },
  };
}

/** The rows a correct reconciler ends: in one pass, or (daemon) over passes an interval apart. */
export function endedBy(scenario: ScenarioCall[], repeatedPasses: boolean): ScenarioCall[] {
  return scenario.filter(
    (c) =>
      c.expect === "end_twilio" ||
      c.expect === "end_age_bound" ||
      (repeatedPasses && c.expect === "end_openai_second_pass"),
  );
}

/**
 * Asserts every row against what the scenario says a correct reconciler does; returns the problems.
 * `repeatedPasses`: the daemon ran passes an interval apart, so confirmed realtime absences are ended too
 * (status completed; seen only past OpenAI's session cap, ended_at = started_at + the cap).
 */
export function mismatches(
  scenario: ScenarioCall[],
  rows: Map<string, StoredCall>,
  applied: boolean,
  repeatedPasses = false,
): string[] {
  const problems: string[] = [];
  for (const c of scenario) {
    const row = rows.get(c.row.id);
    if (!row) {
      problems.push(`${c.row.id}: row missing`);
      continue;
    }
    if (repeatedPasses && c.expect === "end_openai_second_pass") {
      // Seen gone past OpenAI's session cap (the default 3600 s): ended at started_at + the cap.
      const want = c.row.startedAt.getTime() + 3600_000;
      if (row.status !== "completed" || row.endedAt?.getTime() !== want) {
        problems.push(
          `${c.row.id} (${c.kind}): got ${row.status}/${row.endedAt?.toISOString()}, want completed at ${new Date(want).toISOString()}`,
        );
      }
      continue;
    }
    const shouldEnd = applied && (c.expect === "end_twilio" || c.expect === "end_age_bound");
    if (shouldEnd) {
      if (row.status !== c.expectedStatus || row.endedAt?.getTime() !== c.expectedEndedAt?.getTime()) {
        problems.push(
          `${c.row.id} (${c.kind}): got ${row.status}/${row.endedAt?.toISOString()}, want ${c.expectedStatus}/${c.expectedEndedAt?.toISOString()}`,
        );
      }
    } else if (row.status !== c.row.status || row.endedAt?.getTime() !== c.row.endedAt?.getTime()) {
      problems.push(
        `${c.row.id} (${c.kind}): must be untouched, got ${row.status}/${row.endedAt?.toISOString()}`,
      );
    }
  }
  return problems;
}
