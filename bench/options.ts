import { parseArgs } from "node:util";
import { STRATEGIES, type Strategy } from "./protocol.js";

export interface BenchOptions {
  calls: number;
  perCallCalls: number;
  latencyMs: number;
  limitRps: number;
  strategies: Strategy[];
  zombiePct: number;
  concurrency: number;
  writeCalls: number;
  writeBatch: number;
  accounts: number;
  accountCalls: number;
  /** The children's --max-old-space-size; undefined: Node's default (sized from the machine's memory). */
  childHeapMb: number | undefined;
  databaseUrl: string | undefined;
  json: string | undefined;
  /** `--listing`: only the listing on a table of history, with and without the index (bench/history.ts). */
  listing: boolean;
  listingCalls: number;
  /** `--diagnosis`: only the diagnosis of a pass's zombies over later passes (bench/diagnosis.ts). */
  diagnosis: boolean;
  historyFactor: number;
  /** The list-diff pass at `calls` rows also runs on the app's table with text times (and its floor). */
  textTable: boolean;
  /** `--text-times`: only the list-diff passes at `calls` rows, timestamptz and text times, and their floors. */
  textTimes: boolean;
  /**
   * `--sqlite`: only list-diff on the app's table at `perCallCalls` and `calls` rows, in PostgreSQL (text times)
   * and in the app's SQLite file, and both floors at `calls` rows.
   */
  sqlite: boolean;
  /**
   * `--events`: only the zombie lifetime with Event Streams and without: `calls` live calls (default 1,000)
   * ended at Twilio over `endOverSeconds`, the built daemon watching (bench/events.ts).
   */
  events: boolean;
  endOverSeconds: number;
  intervalSeconds: number;
  deliveryDelayMs: number;
  seed: number;
}

export const USAGE = `Usage: npm run bench -- [options]

Seeds N active calls (all with a Twilio SID; --zombie-pct of them over at Twilio, the rest live) into a fresh
database, starts the Twilio simulator with a per-request latency and a hard rate limit (429 above it), and runs
one pass per strategy, each in its own process. Prints requests, 429s, wall time, achieved request rate, DB time,
peak RSS and write rate, checks every end against the truth, and compares the strategies. With list-diff, the
N-row pass runs again on an app's calls table with ISO 8601 text times, compared with it in the same run.

  --calls N           rows for list-diff (and the per-call extrapolation)     default 100000
  --per-call-calls M  rows for the per-call run, and a second list-diff run   default 10000
                      (memory at M vs N rows); per-call at N is extrapolated
  --latency-ms MS     simulator latency per request                           default 50
  --limit-rps R       simulator rate limit, and TWILIO_MAX_RPS                default 100
  --strategies LIST   comma list of list-diff, per-call, auto                 default list-diff,per-call
  --zombie-pct P      share of rows Twilio reports completed                  default 1
  --concurrency C     TWILIO_CONCURRENCY                                      default 16
  --accounts A        a list-diff run over A Twilio subaccounts (0 = skip)    default 20
  --no-text-table     skip the list-diff run at N rows (and its floor) on the app's calls table with
                      ISO 8601 text times (compared with the timestamptz table's in the same run)
  --account-calls K   rows per subaccount in that run                         default 5000
  --child-heap-mb H   run each pass with --max-old-space-size=H, as a         default unset
                      deployment caps it (the Kubernetes example: 160)
  --write-calls W     rows ended by the write-only runs (0 = skip)            default 10000
  --write-batch B     rows per PgCallStore.endCalls() batch in that run       default 500
  --database-url URL  a PostgreSQL role allowed to CREATE DATABASE
                      (default: $BENCH_DATABASE_URL, else an embedded server)
  --json FILE         also write every figure as JSON to FILE
  --listing           instead: the listing's database time on a table of history (ended calls),
                      with the recommended partial index and without it
  --listing-calls A   active rows for --listing                               default 20000
  --diagnosis         instead: 10,000 active rows with 100 zombies of mixed causes; the passes that end
                      and diagnose them, and the requests each cost (at the daemon's defaults:
                      TWILIO_MAX_RPS 10, a 60 s interval)
  --history-factor F  ended rows per active row for --listing (>= 20)         default 100
  --text-times        instead: only list-diff at --calls rows on the timestamptz table and on the app's
                      text-time table, and both floors (a quick run: --text-times --calls 10000)
  --sqlite            instead: list-diff at --per-call-calls and --calls rows on the app's table with
                      text times in PostgreSQL, then in the app's SQLite file (its exact DDL, the listing
                      index doctor advises), and both floors at --calls rows (a quick run: --sqlite
                      --calls 10000)
  --events            instead: the zombie lifetime (a call's end at Twilio -> its row ended) with Event
                      Streams and without: --calls live calls (default 1000 here) ended at seeded
                      moments, webhooks lost, the built daemon (\`npm run build\` first) watching;
                      --limit-rps defaults to 50 here (about 9 min 30 s)
  --end-over S        --events: the calls end within S seconds                default 180
  --interval-seconds I  --events: RECONCILE_INTERVAL_SECONDS                  default 60
  --delivery-delay-ms D --events: each event's delivery delay                 default 1000
  --seed N            --events: the seed of the moments the calls end         default 1
  --help`;

const positive = (name: string, v: string | undefined, fallback: number, integer = true): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be a positive ${integer ? "whole " : ""}number, got "${v}"`);
  }
  return n;
};

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      calls: { type: "string" },
      "per-call-calls": { type: "string" },
      "latency-ms": { type: "string" },
      "limit-rps": { type: "string" },
      strategies: { type: "string" },
      "zombie-pct": { type: "string" },
      concurrency: { type: "string" },
      "write-calls": { type: "string" },
      "write-batch": { type: "string" },
      accounts: { type: "string" },
      "account-calls": { type: "string" },
      "child-heap-mb": { type: "string" },
      "database-url": { type: "string" },
      json: { type: "string" },
      listing: { type: "boolean" },
      diagnosis: { type: "boolean" },
      "listing-calls": { type: "string" },
      "history-factor": { type: "string" },
      "no-text-table": { type: "boolean" },
      "text-times": { type: "boolean" },
      sqlite: { type: "boolean" },
      events: { type: "boolean" },
      "end-over": { type: "string" },
      "interval-seconds": { type: "string" },
      "delivery-delay-ms": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return "help";
  const strategies = (values.strategies ?? "list-diff,per-call")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of strategies) {
    if (!STRATEGIES.includes(s as Strategy)) {
      throw new Error(`--strategies: unknown strategy "${s}" (use ${STRATEGIES.join(", ")})`);
    }
  }
  if (strategies.length === 0) throw new Error("--strategies must name at least one strategy");
  const latency = values["latency-ms"];
  const latencyMs = latency === undefined ? 50 : Number(latency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0)
    throw new Error(`--latency-ms must be >= 0, got "${latency}"`);
  const zombiePct = positive("zombie-pct", values["zombie-pct"], 1, false);
  if (zombiePct > 100) throw new Error("--zombie-pct must be at most 100");
  const writeCalls =
    values["write-calls"] === "0" ? 0 : positive("write-calls", values["write-calls"], 10_000);
  const events = values.events === true;
  const calls = positive("calls", values.calls, events ? 1000 : 100_000);
  const other = (["sqlite", "text-times", "listing", "diagnosis"] as const).find((k) => values[k] === true);
  if (events && other !== undefined)
    throw new Error(`--events and --${other} are two different runs: choose one`);
  const delay = values["delivery-delay-ms"];
  const deliveryDelayMs = delay === undefined ? 1000 : Number(delay);
  if (!Number.isFinite(deliveryDelayMs) || deliveryDelayMs < 0)
    throw new Error(`--delivery-delay-ms must be >= 0, got "${delay}"`);
  if (values["text-times"] === true && values["no-text-table"] === true)
    throw new Error("--text-times runs the text-time table: it cannot be combined with --no-text-table");
  if (values.sqlite === true && values["no-text-table"] === true)
    throw new Error("--sqlite runs the text-time table: it cannot be combined with --no-text-table");
  if (values.sqlite === true && values["text-times"] === true)
    throw new Error("--sqlite and --text-times are two different runs: choose one");
  return {
    calls,
    perCallCalls: Math.min(calls, positive("per-call-calls", values["per-call-calls"], 10_000)),
    latencyMs,
    // With --events, the demo's TWILIO_MAX_RPS against the simulator.
    limitRps: positive("limit-rps", values["limit-rps"], events ? 50 : 100),
    strategies: [...new Set(strategies as Strategy[])],
    zombiePct,
    concurrency: positive("concurrency", values.concurrency, 16),
    writeCalls,
    writeBatch: positive("write-batch", values["write-batch"], 500),
    accounts: values.accounts === "0" ? 0 : positive("accounts", values.accounts, 20),
    accountCalls: positive("account-calls", values["account-calls"], 5000),
    childHeapMb:
      values["child-heap-mb"] === undefined
        ? undefined
        : positive("child-heap-mb", values["child-heap-mb"], 0),
    databaseUrl: values["database-url"] ?? (process.env.BENCH_DATABASE_URL || undefined),
    json: values.json,
    listing: values.listing === true,
    diagnosis: values.diagnosis === true,
    listingCalls: positive("listing-calls", values["listing-calls"], 20_000),
    historyFactor: historyFactor(values["history-factor"]),
    textTable: values["no-text-table"] !== true,
    textTimes: values["text-times"] === true,
    sqlite: values.sqlite === true,
    events,
    endOverSeconds: positive("end-over", values["end-over"], 180),
    intervalSeconds: positive("interval-seconds", values["interval-seconds"], 60),
    deliveryDelayMs,
    seed: positive("seed", values.seed, 1),
  };
}

/** A table of history is what the listing mode is about: at least 20 ended rows per active one. */
function historyFactor(v: string | undefined): number {
  const f = positive("history-factor", v, 100);
  if (f < 20) throw new Error(`--history-factor must be at least 20, got "${v}"`);
  return f;
}
