import { randomUUID } from "node:crypto";
import type pg from "pg";
import { type CallsTableMapping, loadConfig } from "../config/config.js";
import { migrate } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { PgCallStore } from "../db/store.js";
import { readActions, readCalls, seedCalls } from "../dev/seed.js";
import { createLogger } from "../log.js";
import { runPass } from "../reconcile/pass.js";
import { withIncidentRecords } from "../sim/demo-records.js";
import { buildDemoScenario, type ScenarioCall } from "../sim/demo-scenario.js";
import { startDemoSimulators } from "../sim/demo-simulators.js";
import { runCausesReport } from "./causes-report.js";
import { eventStreamsStep } from "./demo-events.js";
import { auditSteps, type Say, shownUrl, startDemoDatabase } from "./demo-steps.js";
import { EXIT } from "./errors.js";
import { createRuntime } from "./runtime.js";

/**
 * Zero-config tour: a real (embedded) Postgres and the Twilio and OpenAI simulators, a seeded incident, an
 * audit, the same audit with --apply, a final audit that finds nothing left to do, and the report of why
 * the ends were lost.
 */
export async function runDemo(opts: { out: NodeJS.WritableStream }): Promise<number> {
  const say: Say = (line = "") => opts.out.write(`${line}\n`);
  say("== call-reconciler demo ==");
  const pgServer = await startDemoDatabase(say);
  const now = new Date();
  // The incident: most completed calls' final callback was answered 200 and the row left active, a few
  // callbacks failed, a few calls were created without one. Twilio's records are readable at once here.
  const scenario = withIncidentRecords(buildDemoScenario(now));
  const sims = await startDemoSimulators(scenario, { recordsAvailableAfterMs: 0 });
  const config = loadConfig({
    DATABASE_URL: pgServer.url,
    ...sims.env,
    HANGUP_ORPHANED_REALTIME: "true",
    LOG_LEVEL: "warn",
  });
  const logger = createLogger(config.logLevel);
  const pool = createPool(pgServer.url, { max: 1 });
  const store = new PgCallStore(pool, config.calls, config.activeStatuses, { statusMap: config.statusMap });
  const countActive = async () => (await store.activeSummary()).active;
  try {
    await migrate(pool, {
      withCallsTable: true,
      mapping: config.calls,
      activeStatuses: config.activeStatuses,
    });
    await seedCalls(
      pool,
      config.calls,
      scenario.map((c) => c.row),
    );
    say(`PostgreSQL at ${shownUrl(pgServer.url)}`);
    say(`Twilio simulator at ${sims.twilio.url}, OpenAI simulator at ${sims.openai.url}`);
    say(`seeded ${scenario.length} calls:`);
    const kinds = new Map<string, number>();
    for (const c of scenario) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    for (const [kind, count] of kinds) say(`  ${String(count).padStart(3)}  ${kind}`);
    const oneShotZombies = scenario.filter((c) => c.expect === "end_twilio" || c.expect === "end_age_bound");
    const zombiesBefore = oneShotZombies.length;
    say(`rows marked active: ${await countActive()} (of which ${zombiesBefore} are really over)`);

    const { applied, zombiesLeft } = await auditSteps(config, logger, opts.out, say, (r) =>
      say(`orphaned realtime sessions hung up (HANGUP_ORPHANED_REALTIME=true): ${r.realtimeHangups.hung_up}`),
    );

    const wrong = await countWrongEnds(pool, config.calls, oneShotZombies);
    say(
      `\nzombies before: ${zombiesBefore}, ended: ${applied.ended}, zombies found by the last audit: ${zombiesLeft}`,
    );
    say(`rows still active: ${await countActive()} (live calls and calls nobody could verify)`);
    say(
      "the realtime session seen gone once is ended by `call-reconciler run` when a second pass, one interval later, sees it gone again",
    );
    say(`ended rows whose ended_at differs from the provider's end time: ${wrong}`);
    say(`audit rows in call_reconciler_actions: ${(await readActions(pool, config.calls)).length}`);

    say(
      "\n$ call-reconciler run              # one pass of the daemon: after its ends, it reads Twilio's records of the ended zombies",
    );
    const runtime = await createRuntime(config, logger);
    try {
      const pass = await runPass(runtime.passDeps, { runId: randomUUID(), dryRun: false, diagnose: true });
      const settled = Object.values(pass.diagnoses.settled).reduce((a, n) => a + n, 0);
      say(`diagnosed ${settled} Twilio ends with ${pass.diagnoses.requests} requests (at most two a call)`);
    } finally {
      await runtime.close();
    }

    say("\n$ call-reconciler report          # why the ends were lost");
    await runCausesReport(config, { json: false, out: opts.out });
    const byEvent = await eventStreamsStep(say, {
      databaseUrl: pgServer.url,
      pool,
      mapping: config.calls,
      sims,
    });
    return wrong === 0 && byEvent ? EXIT.ok : EXIT.zombiesLeft;
  } finally {
    await pool.end();
    await sims.close();
    await pgServer.stop();
  }
}

/** Rows the scenario says must be ended, whose stored status or end time is not exactly the expected one. */
async function countWrongEnds(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  expected: ScenarioCall[],
): Promise<number> {
  const stored = new Map(
    (
      await readCalls(
        pool,
        mapping,
        expected.map((c) => c.row.id),
      )
    ).map((r) => [r.id, r]),
  );
  return expected.filter((c) => {
    const row = stored.get(c.row.id);
    return row?.status !== c.expectedStatus || row?.endedAt?.getTime() !== c.expectedEndedAt?.getTime();
  }).length;
}
