/**
 * `npm run bench`: the strategies of a pass against a real PostgreSQL and the Twilio simulator with latency
 * and a hard rate limit. See `npm run bench -- --help` and bench/RESULTS.md.
 *
 * The parent owns PostgreSQL (started once), seeds a fresh database per run, and runs the simulator; each pass
 * runs in a child process (bench/child.ts) so that its peak RSS is its own.
 */
import { fork } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, release, totalmem, type } from "node:os";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "@photostructure/sqlite";
import pg from "pg";
import { loadConfig } from "../src/config/config.js";
import { APP_TABLE_SETTINGS } from "../src/dev/app-table.js";
import { startEmbeddedPostgres } from "../src/dev/embedded.js";
import { startTwilioSimulator } from "../src/sim/twilio-sim.js";
import { seedAppDataset, verifyAppDataset } from "./app-dataset.js";
import { type BenchDatabase, createDatabase, seedDataset, simulatorCalls, verify } from "./dataset.js";
import { renderDiagnosis, runDiagnosisBench } from "./diagnosis.js";
import { renderEvents, runEventsBench } from "./events.js";
import { renderListing, runListingBench } from "./history.js";
import { phaseRate, watchRequests } from "./measure.js";
import { type BenchOptions, parseOptions, USAGE } from "./options.js";
import type { ChildMessage, Job, PassReport, Strategy, TableKind, WriteReport } from "./protocol.js";
import {
  type Comparison,
  compare,
  endsPerSecond,
  extrapolatePerCall,
  fetchRate,
  type Machine,
  type PassRun,
  render,
  type Summary,
  sqliteAgainstPostgres,
  textAgainstTimestamptz,
  type WriteRun,
} from "./report.js";
import { type SqliteBenchFile, seedSqliteFile, verifySqliteFile } from "./sqlite-dataset.js";
import { strategyWiring } from "./strategy.js";

const ACCOUNT_SID = `AC${"b".repeat(32)}`;
const AUTH_TOKEN = "bench-auth-token-0123456789";
const CHILD = new URL("./child.js", import.meta.url);
/** The default mapping: the bench creates the default calls table. */
const MAPPING = loadConfig({}).calls;
/** The same table, each row naming its Twilio subaccount (the multi-account run). */
const ACCOUNT_MAPPING = loadConfig({ CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid" }).calls;
/** The app's table with text times, mapped as its operator maps it. */
const APP_MAPPING = loadConfig(APP_TABLE_SETTINGS).calls;
/** The subaccount SIDs the dataset spreads rows over: AC + the number 1…n in 32 hex digits. */
const subaccounts = (n: number) =>
  Array.from({ length: n }, (_, k) => `AC${(k + 1).toString(16).padStart(32, "0")}`);

const log = (line: string) => console.error(`[bench] ${line}`);

/** Runs one job in a fresh Node process; rejects if it exits without a report or outlives `timeoutMs`. */
function runChild<T extends PassReport | WriteReport>(
  job: Job,
  timeoutMs: number,
  heapMb?: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: [
        ...(heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`]),
        // Node flags for the passes only (e.g. --trace-gc), to see where their memory goes.
        ...(process.env.BENCH_CHILD_NODE_OPTIONS ?? "").split(" ").filter((a) => a !== ""),
      ],
    });
    let message: ChildMessage | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gave up after ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on("message", (m) => {
      message = m as ChildMessage;
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (message === undefined) reject(new Error(`child exited (${signal ?? code}) without a report`));
      else if (message.kind === "error") reject(new Error(message.message));
      else resolve(message as T);
    });
  });
}

/**
 * The daemon's own rate limit in the floor run: none that matters (TWILIO_MAX_RPS must be a number), so that
 * only this machine (database, parsing, the simulator's own work) paces the pass.
 */
const UNLIMITED_RPS = 1_000_000;

interface PassVariant {
  /** Spread the rows over this many Twilio subaccounts (0: none). */
  accounts?: number;
  /** The machine's floor: a simulator answering at once, no rate limit anywhere. */
  floor?: boolean;
  table?: TableKind;
}

async function passRun(
  adminUrl: string,
  o: BenchOptions,
  strategy: Strategy,
  rows: number,
  { accounts = 0, floor = false, table = "timestamptz" }: PassVariant = {},
): Promise<PassRun> {
  const text = table === "text";
  const sqlite = table === "sqlite";
  const mapping = text || sqlite ? APP_MAPPING : accounts > 0 ? ACCOUNT_MAPPING : MAPPING;
  const label = `${strategy}${floor ? " (floor)" : ""}${text ? " (text times)" : ""}${sqlite ? " (SQLite file)" : ""} at ${rows} rows`;
  const run: PassRun = {
    strategy,
    rows,
    accounts,
    floor,
    table,
    physicalMs: null,
    zombies: 0,
    seedMs: 0,
    error: null,
    report: null,
    requests: 0,
    fetches: 0,
    lists: 0,
    rateLimited: 0,
    responsesByStatus: {},
    maxRequestsInOneSecond: 0,
    fetchPhase: { requests: 0, spanMs: null, rate: null },
    listPhaseMs: null,
    verification: null,
  };
  const wiring = strategyWiring(loadConfig({ TWILIO_STRATEGY: strategy }), strategy);
  if (!wiring.ok) {
    run.error = wiring.reason;
    log(`${label}: skipped: ${wiring.reason}`);
    return run;
  }
  const db = await createDatabase(
    adminUrl,
    `${strategy}_${rows}${floor ? "_floor" : ""}${text ? "_text" : ""}${sqlite ? "_sqlite" : ""}`,
  );
  // With `sqlite`, the truth is in `db` and the calls table in the app's file.
  let file: SqliteBenchFile | undefined;
  try {
    const t0 = performance.now();
    if (sqlite) {
      const made = await seedSqliteFile(db, rows, o.zombiePct);
      file = made.file;
      run.zombies = made.zombies;
      log(
        `${label}: ${file.path} (journal mode ${file.journalMode}), listing index as doctor advises it: ${file.listingIndex}`,
      );
    } else {
      const seeded = text
        ? await seedAppDataset(db, mapping, rows, o.zombiePct)
        : await seedDataset(db, mapping, rows, o.zombiePct, accounts);
      run.zombies = seeded.zombies;
    }
    const calls = await simulatorCalls(db);
    run.seedMs = performance.now() - t0;
    log(`${label}: seeded ${rows} rows (${run.zombies} zombies) in ${Math.round(run.seedMs)} ms`);
    const sim = await startTwilioSimulator({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      calls,
      subaccounts: subaccounts(accounts),
      ...(floor ? {} : { maxRps: o.limitRps }),
      latencyMs: floor ? 0 : o.latencyMs,
    });
    calls.length = 0;
    const watch = watchRequests(sim);
    try {
      // One request per row at the limit, twice over, plus two minutes: a stuck pass fails instead of hanging.
      const timeoutMs = ((2 * rows) / o.limitRps) * 1000 + 120_000;
      run.report = await runChild<PassReport>(
        {
          kind: "pass",
          databaseUrl: file?.url ?? db.url,
          twilioUrl: sim.url,
          accountSid: ACCOUNT_SID,
          authToken: AUTH_TOKEN,
          strategy,
          limitRps: floor ? UNLIMITED_RPS : o.limitRps,
          concurrency: o.concurrency,
          accountColumn: accounts > 0,
          appTable: text || sqlite,
        },
        timeoutMs,
        o.childHeapMb,
      );
    } catch (err) {
      run.error = err instanceof Error ? err.message : String(err);
    } finally {
      const timeline = watch.stop();
      const stats = sim.stats;
      await sim.close();
      run.requests = stats.requests;
      run.fetches = stats.fetches;
      run.lists = stats.lists;
      run.rateLimited = stats.rateLimited;
      run.responsesByStatus = stats.responsesByStatus;
      run.maxRequestsInOneSecond = stats.maxRequestsInOneSecond;
      const busiest = Math.max(0, ...Object.values(stats.byAccount).map((a) => a.requests));
      run.physicalMs = busiest > 0 && !floor ? (busiest / o.limitRps) * 1000 : null;
      const span =
        timeline.firstFetchAt !== null && timeline.lastFetchAt !== null
          ? timeline.lastFetchAt - timeline.firstFetchAt
          : null;
      run.fetchPhase = {
        requests: timeline.requestsInFetchPhase,
        spanMs: span,
        rate: phaseRate(timeline.requestsInFetchPhase, timeline.firstFetchAt, timeline.lastFetchAt),
      };
      run.listPhaseMs =
        timeline.lastListAt !== null && timeline.firstRequestAt !== null
          ? timeline.lastListAt - timeline.firstRequestAt
          : null;
    }
    if (run.report) {
      run.verification = file
        ? await verifySqliteFile(db, file)
        : text
          ? await verifyAppDataset(db, mapping)
          : await verify(db, mapping, true);
      if (strategy === "list-diff" && run.lists === 0 && run.error === null) {
        run.error = "no list request reached the simulator: list-diff is not in effect";
      }
      const r = run.report;
      log(
        `${label}: ${Math.round(r.wallMs)} ms, ${run.requests} requests (${run.lists} list), ` +
          `${run.rateLimited} rate-limited, ${r.ended} ended, ${r.problemCount} warnings/errors logged, ` +
          `${run.verification.ok ? "correct" : `NOT CORRECT ${JSON.stringify(run.verification)}`}`,
      );
      const methods = Object.entries(r.db.methods)
        .map(([name, m]) => `${name} ${m.calls}x ${Math.round(m.totalMs)} ms`)
        .join(", ");
      const mib = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
      log(
        `  store: ${methods}; RSS ${mib(r.baselineRssBytes)} before the pass, peak ${mib(r.maxRssBytes)}, peak heap ${mib(r.peakHeapUsedBytes)}`,
      );
      for (const p of r.problems) log(`  logged: ${p}`);
    } else {
      log(`${label}: FAILED: ${run.error}`);
    }
  } finally {
    file?.remove();
    await db.drop();
  }
  return run;
}

/**
 * `--sqlite`: list-diff on the app's table in PostgreSQL (text times), then in its SQLite file, at each size,
 * each SQLite pass right after the PostgreSQL one so that both meet the same machine; then both floors.
 */
async function sqlitePasses(adminUrl: string, o: BenchOptions): Promise<PassRun[]> {
  const passes: PassRun[] = [];
  for (const rows of o.perCallCalls !== o.calls ? [o.perCallCalls, o.calls] : [o.calls]) {
    passes.push(await passRun(adminUrl, o, "list-diff", rows, { table: "text" }));
    passes.push(await passRun(adminUrl, o, "list-diff", rows, { table: "sqlite" }));
  }
  passes.push(await passRun(adminUrl, o, "list-diff", o.calls, { floor: true, table: "text" }));
  passes.push(await passRun(adminUrl, o, "list-diff", o.calls, { floor: true, table: "sqlite" }));
  return passes;
}

async function writeRun(adminUrl: string, o: BenchOptions, method: WriteRun["method"]): Promise<WriteRun> {
  const run: WriteRun = {
    method,
    rows: o.writeCalls,
    batch: o.writeBatch,
    concurrency: 4,
    wallMs: null,
    rowsPerSecond: null,
    maxRssBytes: null,
    error: null,
    verification: null,
  };
  const db: BenchDatabase = await createDatabase(adminUrl, `write_${method}`);
  try {
    await seedDataset(db, MAPPING, o.writeCalls, 100);
    const report = await runChild<WriteReport>(
      {
        kind: "write",
        databaseUrl: db.url,
        method,
        batch: o.writeBatch,
        // The daemon's pool holds 4 connections (src/db/pool.ts).
        concurrency: 4,
      },
      600_000,
    );
    run.rows = report.rows;
    run.wallMs = report.wallMs;
    run.rowsPerSecond = report.rows / (report.wallMs / 1000);
    run.maxRssBytes = report.maxRssBytes;
    run.verification = await verify(db, MAPPING, true);
    log(`write ${method}: ${report.rows} rows in ${Math.round(report.wallMs)} ms`);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    log(`write ${method}: ${run.error}`);
  } finally {
    await db.drop();
  }
  return run;
}

/** The SQLite the driver is built with, and how it writes the app's file (the app's own defaults). */
function describeSqlite(): string {
  const db = new DatabaseSync(":memory:");
  try {
    const row = db.prepare("SELECT sqlite_version() AS v").get() as { v: string };
    const sync = db.prepare("PRAGMA synchronous").get() as { synchronous: number };
    const level = ["OFF", "NORMAL", "FULL", "EXTRA"][sync.synchronous] ?? String(sync.synchronous);
    return `SQLite ${row.v} (@photostructure/sqlite, synchronous=${level}; the file's journal mode as the app leaves it)`;
  } finally {
    db.close();
  }
}

async function describeMachine(adminUrl: string, withSqlite: boolean): Promise<Machine> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ v: string; fsync: string }>(
    "SELECT split_part(version(), ' on ', 1) AS v, current_setting('fsync') AS fsync",
  );
  await client.end();
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown CPU",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    postgres: `${rows[0]?.v ?? "PostgreSQL"} (fsync=${rows[0]?.fsync ?? "?"})`,
    ...(withSqlite ? { sqlite: describeSqlite() } : {}),
  };
}

function targets(s: Omit<Summary, "targets">): Summary["targets"] {
  const o = s.options;
  const at = (strategy: Strategy, rows: number) =>
    s.passes.find(
      (p) =>
        p.strategy === strategy &&
        p.rows === rows &&
        p.accounts === 0 &&
        !p.floor &&
        p.table === "timestamptz" &&
        p.report !== null,
    );
  const big = at("list-diff", o.calls);
  const small = o.perCallCalls !== o.calls ? at("list-diff", o.perCallCalls) : undefined;
  const cmp = s.comparisons.find((c) => c.rows === o.calls);
  const ran = s.passes.filter((p) => p.report !== null);
  const limited = ran.reduce((n, p) => n + p.rateLimited, 0);
  const rates = ran
    .filter((p) => p.accounts === 0 && !p.floor && p.table === "timestamptz")
    .map((p) => {
      const r = fetchRate(p);
      return { p, rate: r && !r.short ? r.rate : null };
    })
    .filter((x): x is { p: PassRun; rate: number } => x.rate !== null);
  const endCalls = s.writes.find((w) => w.method === "endCalls");
  const pctOf = (x: number) => `${(x * 100).toFixed(1)} %`;
  const mbOf = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const multi = s.passes.find((p) => p.accounts > 0 && p.report !== null);
  const floor = s.passes.find((p) => p.floor && p.report !== null);
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  /** At most 1.2 × the larger of `limitMs` (what the providers' limits allow) and the machine's floor. */
  const within = (p: PassRun | undefined, floorMs: number | null) => {
    if (!p?.report || p.physicalMs === null) return { value: "n/a", met: null };
    const limitMs = Math.max(p.physicalMs, floorMs ?? 0);
    const bound = 1.2 * limitMs;
    const of = floorMs !== null && floorMs > p.physicalMs ? "the floor" : "the physical limit";
    return {
      value: `${sec(p.report.wallMs)} against ${sec(bound)} (${(p.report.wallMs / limitMs).toFixed(2)}× ${of}, ${sec(p.physicalMs)} physical${floorMs === null ? "" : `, ${sec(floorMs)} floor`})`,
      met: p.report.wallMs <= bound,
    };
  };
  if (o.sqlite) {
    const lite = (rows: number) =>
      s.passes.find((p) => p.table === "sqlite" && p.rows === rows && !p.floor && p.report !== null);
    const sizes = o.perCallCalls !== o.calls ? [o.perCallCalls, o.calls] : [o.calls];
    const biggest = lite(o.calls);
    return [
      ...sizes.map((rows) => ({
        name: `list-diff on the SQLite file at ${rows.toLocaleString("en-US")} rows within 1.2 × the physical limit`,
        ...within(lite(rows), null),
      })),
      {
        name: "0 rate-limit 429s caused by the daemon",
        value: ran.length === 0 ? "n/a" : `${limited} in ${ran.length} passes`,
        met: ran.length === 0 ? null : limited === 0,
      },
      {
        name: `peak RSS < 200 MB at ${o.calls.toLocaleString("en-US")} rows (list-diff, SQLite file)`,
        value: biggest?.report ? mbOf(biggest.report.maxRssBytes) : "n/a",
        met: biggest?.report ? biggest.report.maxRssBytes < 200 * 1024 * 1024 : null,
      },
    ];
  }
  return [
    {
      name: `list-diff at ${o.calls.toLocaleString("en-US")} rows within 1.2 × the physical limit`,
      ...within(big, null),
    },
    {
      name: `${o.accounts} accounts × ${o.accountCalls.toLocaleString("en-US")} rows within 1.2 × max(the busiest account's physical limit, the floor)`,
      ...(floor?.report
        ? within(multi, floor.report.wallMs)
        : { value: "n/a (needs the floor run)", met: null }),
    },
    {
      name: `list-diff requests <= 2 % of per-call's at ${o.calls.toLocaleString("en-US")} rows`,
      value: cmp?.requests != null ? pctOf(cmp.requests) : "n/a (needs a list-diff and a per-call run)",
      met: cmp?.requests != null ? cmp.requests <= 0.02 : null,
    },
    {
      name: "0 rate-limit 429s caused by the daemon",
      value: ran.length === 0 ? "n/a" : `${limited} in ${ran.length} passes`,
      met: ran.length === 0 ? null : limited === 0,
    },
    {
      name: "achieved rate >= 90 % of the limit while fetching (fetch phases of 10 s or more)",
      value:
        rates.length === 0
          ? "n/a (no fetch phase long enough)"
          : rates.map((x) => `${x.p.strategy}@${x.p.rows}: ${pctOf(x.rate / o.limitRps)}`).join(", "),
      met: rates.length === 0 ? null : rates.every((x) => x.rate >= 0.9 * o.limitRps),
    },
    {
      name: `peak RSS < 200 MB at ${o.calls.toLocaleString("en-US")} rows (list-diff)`,
      value: big?.report ? mbOf(big.report.maxRssBytes) : "n/a",
      met: big?.report ? big.report.maxRssBytes < 200 * 1024 * 1024 : null,
    },
    {
      name: `peak RSS at ${o.calls.toLocaleString("en-US")} within 20 % of ${o.perCallCalls.toLocaleString("en-US")} rows (list-diff), no heap cap`,
      value:
        big?.report && small?.report
          ? `${mbOf(big.report.maxRssBytes)} vs ${mbOf(small.report.maxRssBytes)} (+${pctOf(big.report.maxRssBytes / small.report.maxRssBytes - 1)})${o.childHeapMb === undefined ? "" : ` (heap capped at ${o.childHeapMb} MB: not judged)`}`
          : "n/a",
      met:
        big?.report && small?.report && o.childHeapMb === undefined
          ? big.report.maxRssBytes <= 1.2 * small.report.maxRssBytes
          : null,
    },
    {
      name: "ends written at >= 5,000 rows/s (write path alone, endCalls)",
      value:
        endCalls?.rowsPerSecond != null
          ? `${Math.round(endCalls.rowsPerSecond).toLocaleString("en-US")} rows/s`
          : `n/a${endCalls?.error ? ` (${endCalls.error})` : ""}`,
      met: endCalls?.rowsPerSecond != null ? endCalls.rowsPerSecond >= 5000 : null,
    },
  ];
}

async function main(): Promise<number> {
  let o: BenchOptions;
  try {
    const parsed = parseOptions(process.argv.slice(2));
    if (parsed === "help") {
      console.log(USAGE);
      return 0;
    }
    o = parsed;
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }

  let stopServer = async () => {};
  let adminUrl = o.databaseUrl;
  if (adminUrl === undefined) {
    log("starting embedded PostgreSQL");
    const server = await startEmbeddedPostgres();
    adminUrl = server.url;
    stopServer = () => server.stop();
  }
  try {
    const machine = await describeMachine(adminUrl, o.sqlite);
    if (o.events) {
      const { calls, endOverSeconds, intervalSeconds, limitRps, latencyMs, deliveryDelayMs, seed } = o;
      const summary = await runEventsBench(
        adminUrl,
        { calls, endOverSeconds, intervalSeconds, limitRps, latencyMs, deliveryDelayMs, seed },
        MAPPING,
        log,
      );
      console.log(
        `\n${machine.cpu}, ${machine.cores} cores; ${machine.postgres}; Node ${machine.node}\n\n${renderEvents(summary)}`,
      );
      if (o.json) await writeFile(o.json, `${JSON.stringify({ machine, ...summary }, null, 2)}\n`);
      return summary.ok ? 0 : 1;
    }
    if (o.diagnosis) {
      const summary = await runDiagnosisBench(
        adminUrl,
        // The daemon's defaults: TWILIO_MAX_RPS 10, a 60 s interval.
        { rows: 10_000, zombies: 100, limitRps: 10, latencyMs: o.latencyMs, intervalSeconds: 60 },
        log,
      );
      console.log(
        `\n${machine.cpu}, ${machine.cores} cores; ${machine.postgres}\n\n${renderDiagnosis(summary)}`,
      );
      if (o.json) await writeFile(o.json, `${JSON.stringify({ machine, ...summary }, null, 2)}\n`);
      return summary.ok ? 0 : 1;
    }
    if (o.listing) {
      const summary = await runListingBench(adminUrl, o.listingCalls, o.historyFactor, log);
      console.log(
        `\n${machine.cpu}, ${machine.cores} cores; ${machine.postgres}\n\n${renderListing(summary)}`,
      );
      if (o.json) await writeFile(o.json, `${JSON.stringify({ machine, ...summary }, null, 2)}\n`);
      return 0;
    }
    const passes: PassRun[] = o.sqlite ? await sqlitePasses(adminUrl, o) : [];
    const plan: [Strategy, number][] = [];
    if (o.textTimes) plan.push(["list-diff", o.calls]);
    else if (!o.sqlite)
      for (const strategy of o.strategies) {
        if (strategy === "per-call") plan.push([strategy, o.perCallCalls]);
        else {
          plan.push([strategy, o.calls]);
          if (strategy === "list-diff" && o.perCallCalls !== o.calls) plan.push([strategy, o.perCallCalls]);
        }
      }
    for (const [strategy, rows] of plan) {
      passes.push(await passRun(adminUrl, o, strategy, rows));
      // Right after the timestamptz pass it is compared with, so that both meet the same machine.
      if (o.textTable && strategy === "list-diff" && rows === o.calls)
        passes.push(await passRun(adminUrl, o, strategy, rows, { table: "text" }));
    }
    if (o.accounts > 0 && o.strategies.includes("list-diff") && !o.textTimes && !o.sqlite)
      passes.push(
        await passRun(adminUrl, o, "list-diff", o.accounts * o.accountCalls, { accounts: o.accounts }),
      );
    if ((o.strategies.includes("list-diff") || o.textTimes) && !o.sqlite) {
      passes.push(await passRun(adminUrl, o, "list-diff", o.calls, { floor: true }));
      if (o.textTable)
        passes.push(await passRun(adminUrl, o, "list-diff", o.calls, { floor: true, table: "text" }));
    }

    const perCall = passes.find((p) => p.strategy === "per-call" && p.report !== null);
    const extrapolation =
      o.strategies.includes("per-call") && o.perCallCalls < o.calls && !o.textTimes && !o.sqlite
        ? extrapolatePerCall(perCall, o.calls, o.limitRps)
        : null;
    const listDiffAt = (rows: number) =>
      passes.find(
        (p) =>
          p.strategy === "list-diff" &&
          p.rows === rows &&
          p.accounts === 0 &&
          p.table === "timestamptz" &&
          p.report !== null,
      );
    const comparisons: Comparison[] = [];
    const atN = compare(listDiffAt(o.calls), extrapolation ?? perCall);
    if (atN) comparisons.push(atN);
    if (extrapolation) {
      const atSmall = compare(listDiffAt(o.perCallCalls), perCall);
      if (atSmall) comparisons.push(atSmall);
    }

    const writes: WriteRun[] = [];
    if (o.writeCalls > 0 && !o.textTimes && !o.sqlite) {
      writes.push(await writeRun(adminUrl, o, "endCalls"));
      writes.push(await writeRun(adminUrl, o, "endCall"));
    }

    const textTable = textAgainstTimestamptz(passes, o.calls);
    const sqliteTable = sqliteAgainstPostgres(passes);
    const partial = {
      options: o,
      machine,
      passes,
      extrapolation,
      comparisons,
      textTable,
      sqliteTable,
      writes,
    };
    const summary: Summary = { ...partial, targets: targets(partial) };
    console.log(`\n${render(summary)}`);
    if (o.json) {
      const derived = passes.map((p) => ({ ...p, endsPerSecond: endsPerSecond(p) }));
      await writeFile(o.json, `${JSON.stringify({ ...summary, passes: derived }, null, 2)}\n`);
      log(`figures written to ${o.json}`);
    }
    const failed = passes.some((p) => p.error !== null || p.verification?.ok === false);
    return failed ? 1 : 0;
  } finally {
    await stopServer();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
