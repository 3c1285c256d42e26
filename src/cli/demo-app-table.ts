import type pg from "pg";
import { loadConfig } from "../config/config.js";
import { migrate } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { PgCallStore } from "../db/store.js";
import {
  APP_CALLS_TABLE_SQL,
  APP_TABLE_SETTINGS,
  pythonIsoformat,
  readAppCalls,
  type StoredAppCall,
  seedAppCalls,
} from "../dev/app-table.js";
import { createLogger } from "../log.js";
import { type AppScenarioCall, buildAppTableScenario } from "../sim/app-demo-scenario.js";
import { startDemoSimulators } from "../sim/demo-simulators.js";
import { auditSteps, type Say, shownUrl, startDemoDatabase } from "./demo-steps.js";
import { EXIT } from "./errors.js";

/**
 * `demo --table text`: the same incident on the calls table a small Python app creates for itself (text ISO
 * times, one id column for both providers, a duration column, its own status words), mapped as it is and
 * never altered: the daemon's own tables beside it, the index doctor advises, an audit, --apply, and the rows
 * as the app reads them afterwards.
 */
export async function runAppTableDemo(opts: { out: NodeJS.WritableStream }): Promise<number> {
  const say: Say = (line = "") => opts.out.write(`${line}\n`);
  say("== call-reconciler demo: an app's own calls table, as it is ==");
  const pgServer = await startDemoDatabase(say);
  const scenario = buildAppTableScenario(new Date());
  const sims = await startDemoSimulators(scenario);
  const config = loadConfig({
    DATABASE_URL: pgServer.url,
    ...sims.env,
    ...APP_TABLE_SETTINGS,
    LOG_LEVEL: "warn",
  });
  const logger = createLogger(config.logLevel);
  const pool = createPool(pgServer.url, { max: 1 });
  try {
    await pool.query(APP_CALLS_TABLE_SQL);
    await seedAppCalls(
      pool,
      scenario.map((c) => c.app),
    );
    say(`PostgreSQL at ${shownUrl(pgServer.url)}`);
    say(`Twilio simulator at ${sims.twilio.url}, OpenAI simulator at ${sims.openai.url}`);
    say("the app's table, as its Python code created it:");
    for (const line of APP_CALLS_TABLE_SQL.split("\n")) say(`  ${line}`);
    say(
      `seeded ${scenario.length} calls: Call SIDs (CA…) for outbound calls, realtime ids (rtc_…) for inbound ones`,
    );
    say("mapped as it is:");
    say(
      `  export ${Object.entries(APP_TABLE_SETTINGS)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );

    say(
      "\n$ call-reconciler migrate          # the daemon's own tables, beside the app's; that one is not altered",
    );
    const migrated = await migrate(pool, { withCallsTable: false, mapping: config.calls });
    say(`applied migrations: ${migrated.applied.join(", ")} in schema ${migrated.schema}`);
    const store = new PgCallStore(pool, config.calls, config.activeStatuses, { statusMap: config.statusMap });
    const index = await store.listingIndex();
    if (!index.usable) {
      say("\n# what doctor advises, so that a pass reads the active rows, not the history:");
      say(index.statement);
      await pool.query(index.statement);
      // Fresh statistics, as autovacuum would gather them on a real table: the planner then weighs the new
      // index against the app's own index on started_at with the table's real sizes.
      await pool.query("ANALYZE calls");
    }

    const shown = scenario.filter((c) => c.expect === "end_twilio").slice(0, 3);
    say("\nthree zombies as the app reads them:");
    printRows(
      say,
      await readAppCalls(
        pool,
        shown.map((c) => c.app.callId),
      ),
    );

    const { applied, zombiesLeft } = await auditSteps(config, logger, opts.out, say);

    say(
      "\nthe same rows afterwards: Twilio's end time in the app's own format, its duration, the app's words",
    );
    printRows(
      say,
      await readAppCalls(
        pool,
        shown.map((c) => c.app.callId),
      ),
    );
    const wrong = await countWrongRows(pool, scenario);
    say(`\nended: ${applied.ended}, zombies found by the last audit: ${zombiesLeft}`);
    say(
      "the realtime calls no provider vouches for yet stay active: `call-reconciler run` ends a gone one when a second pass sees it gone again",
    );
    say(`rows whose status, ended_at or duration_seconds differs from what the providers say: ${wrong}`);
    return wrong === 0 ? EXIT.ok : EXIT.zombiesLeft;
  } finally {
    await pool.end();
    await sims.close();
    await pgServer.stop();
  }
}

function printRows(say: Say, rows: readonly StoredAppCall[]): void {
  for (const r of rows) {
    say(
      `  ${r.callId.slice(0, 12)}…  ${r.status.padEnd(9)}  started ${r.startedAt}  ended ${r.endedAt ?? "NULL"}  duration ${r.durationSeconds ?? "NULL"}`,
    );
  }
}

/**
 * Rows not as a correct reconciler leaves them: a zombie Twilio ended without its exact status (in the app's
 * words), end time (in the app's text format) or duration, or any other row changed at all.
 */
async function countWrongRows(pool: pg.Pool, scenario: readonly AppScenarioCall[]): Promise<number> {
  const stored = new Map(
    (
      await readAppCalls(
        pool,
        scenario.map((c) => c.app.callId),
      )
    ).map((r) => [r.callId, r]),
  );
  return scenario.filter((c) => {
    const row = stored.get(c.app.callId);
    if (row === undefined) return true;
    const ended = c.expect === "end_twilio";
    const status = ended ? c.expectedStatus : c.app.status;
    const endedAt = ended ? c.expectedEndedAt : c.app.endedAt;
    const duration = ended ? c.expectedDuration : c.app.durationSeconds;
    return (
      row.status !== status ||
      row.endedAt !== (endedAt == null ? null : pythonIsoformat(endedAt)) ||
      row.durationSeconds !== (duration ?? null)
    );
  }).length;
}
