/**
 * The app-table demo, wherever the app keeps its table: the incident on the calls table a small Python app
 * creates for itself (text ISO times, one id column for both providers, a duration column, its own status
 * words), mapped as it is and never altered. Every step is the command's own code on the Database port, so
 * PostgreSQL and the app's SQLite file go down the same path; only where the table lives differs.
 */
import { type Config, loadConfig } from "../config/config.js";
import { APP_TABLE_SETTINGS, type AppCall, pythonIsoformat, type StoredAppCall } from "../dev/app-table.js";
import { createLogger } from "../log.js";
import { type AppScenarioCall, buildAppTableScenario } from "../sim/app-demo-scenario.js";
import { type DemoSimulators, startDemoSimulators } from "../sim/demo-simulators.js";
import { openDatabase } from "./database.js";
import { auditSteps, type Say } from "./demo-steps.js";
import { runDoctor } from "./doctor.js";
import { EXIT } from "./errors.js";
import { runMigrate } from "./migrate.js";

/** The app's table, created and seeded where it lives, as the app sees it. */
export interface AppTableHome {
  /** The DATABASE_URL that names it. */
  url: string;
  /** Where it is, in one line. */
  where: string;
  /** The app's own DDL, as its Python code ran it. */
  ddl: string;
  /** Runs a statement as the table's owner runs what doctor advises. */
  runAsOwner(statement: string): Promise<void>;
  /** The rows as the app reads them back: its own text. */
  read(ids: readonly string[]): Promise<StoredAppCall[]>;
  close(): Promise<void>;
}

export interface AppTableSite {
  /** The demo's title: what it shows. */
  title: string;
  /** Creates the app's table with its rows, as the app wrote them. */
  open(say: Say, calls: readonly AppCall[]): Promise<AppTableHome>;
}

export async function runAppTableDemo(
  opts: { out: NodeJS.WritableStream },
  site: AppTableSite,
): Promise<number> {
  const say: Say = (line = "") => opts.out.write(`${line}\n`);
  say(`== call-reconciler demo: ${site.title} ==`);
  const scenario = buildAppTableScenario(new Date());
  const home = await site.open(
    say,
    scenario.map((c) => c.app),
  );
  let sims: DemoSimulators | undefined;
  try {
    sims = await startDemoSimulators(scenario);
    return await reconcile(opts.out, say, home, sims, scenario);
  } finally {
    await sims?.close();
    await home.close();
  }
}

async function reconcile(
  out: NodeJS.WritableStream,
  say: Say,
  home: AppTableHome,
  sims: DemoSimulators,
  scenario: readonly AppScenarioCall[],
): Promise<number> {
  const config = loadConfig({
    DATABASE_URL: home.url,
    ...sims.env,
    ...APP_TABLE_SETTINGS,
    LOG_LEVEL: "warn",
  });
  const logger = createLogger(config.logLevel);
  say(home.where);
  say(`Twilio simulator at ${sims.twilio.url}, OpenAI simulator at ${sims.openai.url}`);
  say("the app's table, as its Python code created it:");
  for (const line of home.ddl.split("\n")) say(`  ${line}`);
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
  await runMigrate(config, logger, { withCallsTable: false, out, err: out });
  say("\n$ call-reconciler doctor           # the setup, before anything is written");
  const doctor = await runDoctor(config, logger, { json: false, out });
  say(`(exit code ${doctor}: 0 = every check passed, 1 = some warn, 2 = some failed)`);
  const index = await listingIndexToCreate(config);
  if (index !== null) {
    say(
      "\n# as the table's owner, the index doctor advises, so that a pass reads the active rows, not the history:",
    );
    say(index);
    await home.runAsOwner(index);
  }

  const shown = scenario.filter((c) => c.expect === "end_twilio").slice(0, 3);
  const shownIds = shown.map((c) => c.app.callId);
  say("\nthree zombies as the app reads them:");
  printRows(say, await home.read(shownIds));

  const { applied, zombiesLeft } = await auditSteps(config, logger, out, say);

  say("\nthe same rows afterwards: Twilio's end time in the app's own format, its duration, the app's words");
  printRows(say, await home.read(shownIds));
  const wrong = wrongRows(scenario, await home.read(scenario.map((c) => c.app.callId)));
  say(`\nended: ${applied.ended}, zombies found by the last audit: ${zombiesLeft}`);
  say(
    "the realtime calls no provider vouches for yet stay active: `call-reconciler run` ends a gone one when a second pass sees it gone again",
  );
  say(`rows whose status, ended_at or duration_seconds differs from what the providers say: ${wrong}`);
  return wrong === 0 && doctor !== EXIT.badConfig ? EXIT.ok : EXIT.zombiesLeft;
}

/** The statement that creates the listing index, when none serves the listing yet; null when one does. */
async function listingIndexToCreate(config: Config): Promise<string | null> {
  const database = await openDatabase(config, { connections: 1 });
  try {
    const index = await database.store.listingIndex();
    return index.usable ? null : index.statement;
  } finally {
    await database.close();
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
function wrongRows(scenario: readonly AppScenarioCall[], rows: readonly StoredAppCall[]): number {
  const stored = new Map(rows.map((r) => [r.callId, r]));
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
