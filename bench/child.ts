/**
 * One benchmark run in its own process, so that its peak RSS is its own: a pass wired exactly as the daemon
 * wires it (src/cli/runtime.ts, test/helpers/matrix.ts), or the write path alone. Reads its job from the
 * BENCH_JOB environment variable and answers with one IPC message (bench/protocol.ts).
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import pLimit from "p-limit";
import { openDatabase } from "../src/cli/database.js";
import { passDepsFor } from "../src/cli/runtime.js";
import { type Config, loadConfig } from "../src/config/config.js";
import { createPool } from "../src/db/pool.js";
import { PgCallStore } from "../src/db/store.js";
import { APP_TABLE_SETTINGS } from "../src/dev/app-table.js";
import { tuneGarbageCollection } from "../src/gc-tuning.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics/metrics.js";
import type { ActiveCall, CommandStore, EndRequest } from "../src/model/index.js";
import { rawProviders } from "../src/providers/guarded.js";
import { type PassDeps, runPass } from "../src/reconcile/pass.js";
import { formatRfc2822 } from "../src/sim/rfc2822.js";
import { sampleMemory, timedStore } from "./measure.js";
import type { ChildMessage, Job, PassJob, PassReport, WriteJob, WriteReport } from "./protocol.js";
import { strategyWiring } from "./strategy.js";

const MAX_PROBLEMS = 5;

// As the daemon's entry point does; BENCH_V8_HEAP_GROWTH=1 leaves V8's own heap growth, for comparison.
if (process.env.BENCH_V8_HEAP_GROWTH !== "1") tuneGarbageCollection();

/** Peak resident set size of this process so far, in bytes (maxRSS is in kilobytes). */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

/** The daemon's log lines are formatted as in production, then dropped; warnings and errors are kept. */
function logSink() {
  const problems: string[] = [];
  let problemCount = 0;
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) {
        if (!/"level":(4|5|6)0/.test(line)) continue;
        problemCount++;
        if (problems.length < MAX_PROBLEMS) problems.push(line.slice(0, 400));
      }
      done();
    },
  });
  return { sink, problems, count: () => problemCount };
}

async function runPassJob(job: PassJob): Promise<PassReport> {
  const config = loadConfig({
    DATABASE_URL: job.databaseUrl,
    TWILIO_ACCOUNT_SID: job.accountSid,
    TWILIO_AUTH_TOKEN: job.authToken,
    TWILIO_API_BASE_URL: job.twilioUrl,
    TWILIO_MAX_RPS: String(job.limitRps),
    TWILIO_CONCURRENCY: String(job.concurrency),
    TWILIO_STRATEGY: job.strategy,
    ...(job.accountColumn ? { CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid" } : {}),
    ...(job.appTable ? APP_TABLE_SETTINGS : {}),
    PROVIDER_TIMEOUT_MS: "10000",
    LOG_LEVEL: "info",
  });
  const wiring = strategyWiring(config, job.strategy);
  if (!wiring.ok) throw new Error(wiring.reason);
  const logs = logSink();
  const logger = createLogger(config.logLevel, logs.sink);
  const { store: real, close } = await openStore(config, job.databaseUrl);
  await real.ping(); // a warm pool (an open file), as between two passes of the daemon; not timed
  const { store, times } = timedStore(real);
  const metrics = createMetrics();
  const deps: PassDeps = {
    ...passDepsFor(config, { store, metrics, logger, raw: rawProviders(config) }),
    ...wiring.deps,
  };
  // As the daemon does (src/cli/run.ts): a shutdown signal every request listens on.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  const baselineRssBytes = process.memoryUsage().rss;
  const memory = sampleMemory();
  const t0 = performance.now();
  const r = await runPass(deps, { runId: randomUUID(), dryRun: false, signal: shutdown.signal });
  const wallMs = performance.now() - t0;
  const { peakHeapUsedBytes } = memory.stop();
  await close();
  const used = (r as { twilioStrategy?: unknown }).twilioStrategy;
  return {
    kind: "pass",
    wallMs,
    db: times(),
    maxRssBytes: maxRss(),
    baselineRssBytes,
    peakHeapUsedBytes,
    checked: r.checked,
    live: r.live,
    ended: r.ended,
    alreadyEnded: r.alreadyEnded,
    writeFailures: r.writeFailures,
    unverified: Object.fromEntries(Object.entries(r.unverified).map(([k, v]) => [k, v ?? 0])),
    providerErrors: r.providerErrors,
    usedStrategy: typeof used === "string" ? used : null,
    problems: logs.problems,
    problemCount: logs.count(),
  };
}

/**
 * The store a pass runs on: PostgreSQL's on the daemon's pool, or a SQLite file opened through the commands'
 * port (src/cli/database.ts), as `run` opens it.
 */
async function openStore(
  config: Config,
  databaseUrl: string,
): Promise<{ store: CommandStore; close: () => Promise<void> }> {
  if (config.database?.kind === "sqlite") {
    const database = await openDatabase(config);
    return { store: database.store, close: () => database.close() };
  }
  const pool = createPool(databaseUrl);
  const store = new PgCallStore(pool, config.calls, config.activeStatuses, { statusMap: config.statusMap });
  return { store, close: () => pool.end() };
}

type BatchStore = PgCallStore & { endCalls?: (batch: EndRequest[]) => Promise<unknown> };

async function runWriteJob(job: WriteJob): Promise<WriteReport> {
  const config = loadConfig({ DATABASE_URL: job.databaseUrl, LOG_LEVEL: "silent" });
  const pool = createPool(job.databaseUrl);
  const store: BatchStore = new PgCallStore(pool, config.calls, config.activeStatuses, {
    statusMap: config.statusMap,
  });
  const endCalls = store.endCalls;
  if (job.method === "endCalls" && typeof endCalls !== "function") {
    await pool.end();
    throw new Error("n/a: PgCallStore.endCalls does not exist in this build");
  }
  // The rows as a pass sees them, and Twilio's end times (bench_truth): read before the clock starts.
  const rows: ActiveCall[] = [];
  let cursor = null;
  do {
    const page = await store.listActivePage(cursor, new Date(), 1000);
    rows.push(...page.rows);
    cursor = page.next;
  } while (cursor !== null);
  const truth = new Map(
    (
      await pool.query<{ call_id: string; ended_at: Date; duration_s: number }>(
        "SELECT call_id, ended_at, duration_s FROM bench_truth",
      )
    ).rows.map((t) => [t.call_id, t]),
  );
  const runId = randomUUID();
  const requests = rows.map((call): EndRequest => {
    const t = truth.get(call.id);
    if (!t) throw new Error(`no truth for ${call.id}`);
    const end = formatRfc2822(t.ended_at);
    return {
      call,
      newStatus: "completed",
      endedAt: t.ended_at,
      durationSeconds: (t.ended_at.getTime() - call.startedAt.getTime()) / 1000,
      source: "twilio",
      runId,
      // The shape and size of a real Twilio evidence, as the pass records it.
      evidence: {
        twilio: {
          kind: "ended",
          status: "completed",
          endedAt: t.ended_at,
          endTimeSource: "end_time",
          raw: {
            start_time: formatRfc2822(call.startedAt),
            end_time: end,
            duration: String(t.duration_s),
            date_updated: end,
          },
        },
        openai: { kind: "skipped", why: "no_id" },
      },
      decidedAt: new Date(),
    };
  });
  let ended = 0;
  const t0 = performance.now();
  if (job.method === "endCalls" && typeof endCalls === "function") {
    for (let i = 0; i < requests.length; i += job.batch) {
      await endCalls.call(store, requests.slice(i, i + job.batch));
    }
    ended = -1; // the parent counts them in the database
  } else {
    const limit = pLimit(job.concurrency);
    const results = await Promise.all(requests.map((req) => limit(() => store.endCall(req))));
    ended = results.filter((r) => r === "ended").length;
  }
  const wallMs = performance.now() - t0;
  await pool.end();
  return { kind: "write", method: job.method, rows: rows.length, ended, wallMs, maxRssBytes: maxRss() };
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(message));
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  const raw = process.env.BENCH_JOB;
  if (raw === undefined) throw new Error("BENCH_JOB is not set: this file is started by bench/run.ts");
  const job = JSON.parse(raw) as Job;
  const report = job.kind === "pass" ? await runPassJob(job) : await runWriteJob(job);
  await send(report);
}

main().then(
  // Keep-alive sockets to the simulator would hold the process open: the report is sent, so leave.
  () => process.exit(0),
  async (err: unknown) => {
    await send({ kind: "error", message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
