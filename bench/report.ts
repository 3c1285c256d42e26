import type { Verification } from "./dataset.js";
import type { BenchOptions } from "./options.js";
import type { PassReport, Strategy, TableKind } from "./protocol.js";

export interface PassRun {
  strategy: Strategy;
  rows: number;
  /** Twilio subaccounts the rows are spread over (0: all under the configured account). */
  accounts: number;
  /** The machine's floor: the simulator answers at once and nothing limits the rate. */
  floor: boolean;
  /** The default calls table (timestamptz times), the app's with ISO 8601 text times, or the app's SQLite file. */
  table: TableKind;
  /**
   * The physical limit: the busiest account's requests ÷ its rate limit (accounts are limited each on its
   * own, so a pass can be no faster than its busiest account).
   */
  physicalMs: number | null;
  zombies: number;
  seedMs: number;
  error: string | null;
  report: PassReport | null;
  requests: number;
  fetches: number;
  lists: number;
  /** 429s the simulator's rate limit sent: caused by the daemon. */
  rateLimited: number;
  responsesByStatus: Record<number, number>;
  maxRequestsInOneSecond: number;
  fetchPhase: { requests: number; spanMs: number | null; rate: number | null };
  /** From the first request to the last list request: what listing cost (list-diff). */
  listPhaseMs: number | null;
  verification: Verification | null;
}

export interface WriteRun {
  method: "endCalls" | "endCall";
  rows: number;
  batch: number;
  concurrency: number;
  wallMs: number | null;
  rowsPerSecond: number | null;
  maxRssBytes: number | null;
  error: string | null;
  verification: Verification | null;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  /** The SQLite library the driver is built with, and how the app's file is written: in the SQLite runs. */
  sqlite?: string;
}

/**
 * The limiter lets a first burst of up to `limit` requests go at once, so a phase of S seconds can overstate
 * the rate by up to 1/S of the limit: shorter phases are shown but not judged.
 */
export const MIN_RATE_SPAN_MS = 10_000;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
const int = (n: number) => n.toLocaleString("en-US");
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function endsPerSecond(run: PassRun): number | null {
  const r = run.report;
  if (!r || r.ended === 0 || r.db.writeBusyMs <= 0) return null;
  return r.ended / (r.db.writeBusyMs / 1000);
}

export function fetchRate(run: PassRun): { rate: number; spanMs: number; short: boolean } | null {
  const { rate, spanMs } = run.fetchPhase;
  if (rate === null || spanMs === null) return null;
  return { rate, spanMs, short: spanMs < MIN_RATE_SPAN_MS };
}

export interface Extrapolation {
  rows: number;
  requests: number;
  wallMs: number;
  /** The rate the time is computed from, and where it comes from. */
  rate: number;
  rateSource: string;
}

/** Per-call at N rows, from the per-call run at fewer rows: one fetch per row with a SID, at the rate achieved. */
export function extrapolatePerCall(
  perCall: PassRun | undefined,
  rows: number,
  limitRps: number,
): Extrapolation {
  const measured = perCall ? fetchRate(perCall) : null;
  const usable = measured && !measured.short ? measured.rate : null;
  return {
    rows,
    requests: rows,
    wallMs: (rows / (usable ?? limitRps)) * 1000,
    rate: usable ?? limitRps,
    rateSource:
      usable !== null && perCall
        ? `the rate the per-call run achieved at ${int(perCall.rows)} rows`
        : "the rate limit (no usable per-call run)",
  };
}

export interface Comparison {
  rows: number;
  extrapolated: boolean;
  requests: number | null;
  time: number | null;
}

export function compare(
  listDiff: PassRun | undefined,
  perCall: PassRun | Extrapolation | undefined,
): Comparison | null {
  if (!listDiff?.report || !perCall) return null;
  const isRun = "strategy" in perCall;
  const pcRequests = perCall.requests;
  const pcWall = isRun ? (perCall.report?.wallMs ?? null) : perCall.wallMs;
  return {
    rows: listDiff.rows,
    extrapolated: !isRun,
    requests: pcRequests > 0 ? listDiff.requests / pcRequests : null,
    time: pcWall ? listDiff.report.wallMs / pcWall : null,
  };
}

/** The goal for the text-time table: its pass no more than this much slower than the timestamptz one. */
export const TEXT_TABLE_GOAL = 0.1;

export interface TextAgainstTimestamptz {
  rows: number;
  /** Text over timestamptz, for the rate-limited passes and, when both ran, the floors. */
  pairs: { floor: boolean; wallMs: [number, number]; dbMs: [number, number]; wall: number; db: number }[];
}

/** Text-time passes against the timestamptz passes of the same run at `rows`: null when no pair ran. */
export function textAgainstTimestamptz(
  passes: readonly PassRun[],
  rows: number,
): TextAgainstTimestamptz | null {
  const pairs: TextAgainstTimestamptz["pairs"] = [];
  for (const floor of [false, true]) {
    const find = (table: TableKind) =>
      passes.find(
        (p) =>
          p.strategy === "list-diff" &&
          p.rows === rows &&
          p.accounts === 0 &&
          p.floor === floor &&
          p.table === table &&
          p.report !== null &&
          p.error === null,
      )?.report;
    const text = find("text");
    const ts = find("timestamptz");
    if (!text || !ts || ts.wallMs <= 0 || ts.db.busyMs <= 0) continue;
    pairs.push({
      floor,
      wallMs: [text.wallMs, ts.wallMs],
      dbMs: [text.db.busyMs, ts.db.busyMs],
      wall: text.wallMs / ts.wallMs,
      db: text.db.busyMs / ts.db.busyMs,
    });
  }
  return pairs.length === 0 ? null : { rows, pairs };
}

export interface SqliteAgainstPostgres {
  /** The SQLite file's pass over the PostgreSQL text-time pass at the same size, floors apart. */
  pairs: {
    rows: number;
    floor: boolean;
    wallMs: [number, number];
    dbMs: [number, number];
    writeMs: [number, number];
    rssBytes: [number, number];
    wall: number;
  }[];
}

/** The SQLite passes against the PostgreSQL text-time passes of the same run: null when no pair ran. */
export function sqliteAgainstPostgres(passes: readonly PassRun[]): SqliteAgainstPostgres | null {
  const ran = (table: TableKind) =>
    passes.filter(
      (p) =>
        p.strategy === "list-diff" && p.accounts === 0 && p.table === table && p.report !== null && !p.error,
    );
  const pairs: SqliteAgainstPostgres["pairs"] = [];
  for (const lite of ran("sqlite")) {
    const pg = ran("text").find((p) => p.rows === lite.rows && p.floor === lite.floor)?.report;
    const l = lite.report;
    if (!pg || !l || pg.wallMs <= 0) continue;
    pairs.push({
      rows: lite.rows,
      floor: lite.floor,
      wallMs: [l.wallMs, pg.wallMs],
      dbMs: [l.db.busyMs, pg.db.busyMs],
      writeMs: [l.db.writeBusyMs, pg.db.writeBusyMs],
      rssBytes: [l.maxRssBytes, pg.maxRssBytes],
      wall: l.wallMs / pg.wallMs,
    });
  }
  return pairs.length === 0 ? null : { pairs };
}

export interface Summary {
  options: BenchOptions;
  machine: Machine;
  passes: PassRun[];
  extrapolation: Extrapolation | null;
  comparisons: Comparison[];
  textTable: TextAgainstTimestamptz | null;
  sqliteTable: SqliteAgainstPostgres | null;
  writes: WriteRun[];
  targets: { name: string; value: string; met: boolean | null }[];
}

export function render(s: Summary): string {
  const o = s.options;
  const out: string[] = [];
  out.push(
    `Machine: ${s.machine.cpu}, ${s.machine.cores} cores, ${s.machine.memoryGiB} GiB; ${s.machine.os}; Node ${s.machine.node}; ${s.machine.postgres}${s.machine.sqlite === undefined ? "" : `; ${s.machine.sqlite}`}`,
    `Simulator: ${o.latencyMs} ms per request, 429 above ${o.limitRps} req/s (sliding second); TWILIO_MAX_RPS=${o.limitRps}, TWILIO_CONCURRENCY=${o.concurrency}, PROVIDER_TIMEOUT_MS=10000; ${o.zombiePct} % zombies${o.childHeapMb === undefined ? "" : `; passes run with --max-old-space-size=${o.childHeapMb}`}`,
    "",
  );
  const rows = s.passes.map((p) => {
    const r = p.report;
    const rate = fetchRate(p);
    const eps = endsPerSecond(p);
    const correct = p.error ? `FAILED: ${p.error}` : p.verification?.ok ? "yes" : "NO";
    return [
      p.strategy +
        (r?.usedStrategy && r.usedStrategy !== p.strategy ? ` (ran ${r.usedStrategy})` : "") +
        (p.accounts > 0 ? `, ${p.accounts} accounts` : "") +
        (p.table === "text" ? ", text times (app table)" : "") +
        (p.table === "sqlite" ? ", SQLite file (app table)" : "") +
        (p.floor ? ", floor (0 ms, no limit)" : ""),
      int(p.rows),
      int(p.zombies),
      r ? `${int(p.requests)} (${int(p.lists)} list + ${int(p.fetches)} fetch)` : "-",
      r ? int(p.rateLimited) : "-",
      r ? `${secs(r.wallMs)}${p.listPhaseMs === null ? "" : ` (listing ${secs(p.listPhaseMs)})`}` : "-",
      r && p.physicalMs ? `${(r.wallMs / p.physicalMs).toFixed(2)}× of ${secs(p.physicalMs)}` : "-",
      rate && !p.floor
        ? `${rate.rate.toFixed(1)}/s = ${pct(rate.rate / o.limitRps)} over ${secs(rate.spanMs)}${rate.short ? " (short)" : ""}`
        : rate
          ? `${rate.rate.toFixed(0)}/s (no limit) over ${secs(rate.spanMs)}`
          : "-",
      r ? `${secs(r.db.busyMs)} (writes ${secs(r.db.writeBusyMs)})` : "-",
      r ? mb(r.maxRssBytes) : "-",
      eps === null ? "-" : int(Math.round(eps)),
      correct,
    ];
  });
  if (s.extrapolation) {
    const e = s.extrapolation;
    rows.push([
      "per-call (EXTRAPOLATED)",
      int(e.rows),
      "-",
      `${int(e.requests)} (1 fetch per row)`,
      "-",
      `${secs(e.wallMs)} (rows / ${e.rate.toFixed(1)}/s)`,
      "-",
      "-",
      "-",
      "-",
      "-",
      "not run",
    ]);
  }
  out.push(
    table(
      [
        "strategy",
        "rows",
        "zombies",
        "provider requests",
        "429s",
        "wall time",
        "× physical limit",
        "fetch-phase rate / limit",
        "DB time",
        "peak RSS",
        "ends/s",
        "correct",
      ],
      rows,
    ),
  );
  if (s.extrapolation) {
    out.push(
      "",
      `EXTRAPOLATED: per-call at ${int(s.extrapolation.rows)} rows was not run (it would take ${secs(s.extrapolation.wallMs)}); requests = rows with a SID, time = rows / ${s.extrapolation.rateSource}.`,
    );
  }
  out.push(
    "",
    "fetch-phase rate: the requests arriving between the first and the last fetch, over that span (timestamps ±2 ms), as a share of the limit;",
    "  the limiter's first burst can overstate a phase of S seconds by up to 1/S of the limit: '(short)' phases, under 10 s, are not judged.",
    "listing: from the first request to the last list page (list-diff).",
    "× physical limit: wall time ÷ (the busiest account's requests ÷ the rate limit), the fastest any pass could be.",
    "DB time: wall time with at least one store call in flight (list pages + writes). ends/s: zombies ended per second of write time during the pass.",
  );
  const floor = s.passes.find((p) => p.floor && p.report !== null);
  if (floor?.report) {
    const perInterval = floor.rows * (60_000 / floor.report.wallMs);
    out.push(
      "",
      `floor: ${int(floor.rows)} active rows reconciled in ${secs(floor.report.wallMs)} with providers answering at once and no rate limit: about ${int(Math.floor(perInterval / 1000) * 1000)} rows per 60 s interval on this machine, one process.`,
    );
  }
  if (s.comparisons.length > 0) {
    out.push("", "list-diff / per-call:");
    for (const c of s.comparisons) {
      const ratio = (x: number | null) => (x === null ? "n/a" : `${pct(x)}`);
      out.push(
        `  at ${int(c.rows)} rows${c.extrapolated ? " (per-call EXTRAPOLATED)" : " (both measured)"}: requests ${ratio(c.requests)}, wall time ${ratio(c.time)}`,
      );
    }
  }
  if (s.textTable) {
    const t = s.textTable;
    const goal = `within ${TEXT_TABLE_GOAL * 100} %`;
    const ratio = (x: number, a: number, b: number) =>
      `${x.toFixed(2)}× (${secs(a)} vs ${secs(b)}; ${x <= 1 + TEXT_TABLE_GOAL ? goal : `NOT ${goal}`})`;
    out.push("", `text times / timestamptz, list-diff at ${int(t.rows)} rows, same run:`);
    for (const p of t.pairs) {
      out.push(
        `  ${p.floor ? "floor" : "pass "}: wall time ${ratio(p.wall, ...p.wallMs)}, DB time ${ratio(p.db, ...p.dbMs)}`,
      );
    }
  }
  if (s.sqliteTable) {
    out.push("", "SQLite file / PostgreSQL, the app's table (text times), list-diff, same run:");
    for (const p of s.sqliteTable.pairs) {
      out.push(
        `  ${int(p.rows)} rows${p.floor ? ", floor" : ""}: wall time ${p.wall.toFixed(2)}× (${secs(p.wallMs[0])} vs ${secs(p.wallMs[1])}), DB time ${secs(p.dbMs[0])} vs ${secs(p.dbMs[1])} (writes ${secs(p.writeMs[0])} vs ${secs(p.writeMs[1])}), peak RSS ${mb(p.rssBytes[0])} vs ${mb(p.rssBytes[1])}`,
      );
    }
  }
  if (s.writes.length > 0) {
    out.push("", "Write path alone (fresh database, every row ended, no providers):");
    for (const w of s.writes) {
      const how =
        w.method === "endCalls"
          ? `store.endCalls(), batches of ${w.batch}`
          : `store.endCall() per row, ${w.concurrency} in flight`;
      const figure = w.error
        ? w.error
        : `${int(w.rows)} rows in ${secs(w.wallMs ?? 0)} = ${int(Math.round(w.rowsPerSecond ?? 0))} rows/s, peak RSS ${mb(w.maxRssBytes ?? 0)}, ${w.verification?.ok ? "correct" : "NOT CORRECT"}`;
      out.push(`  ${how}: ${figure}`);
    }
  }
  out.push("", "Targets:");
  for (const t of s.targets) {
    const mark = t.met === null ? "n/a " : t.met ? "met " : "MISS";
    out.push(`  [${mark}] ${t.name}: ${t.value}`);
  }
  return out.join("\n");
}
