/**
 * `npm run bench -- --events`: how long a zombie lives (its true end at Twilio → its row ended in the table)
 * with Event Streams and without. Per run: a fresh database whose calls are all live (rows active, the Twilio
 * simulator says in-progress), the built CLI's daemon (`run`) against it, then every call ended at Twilio at
 * a seeded moment with its webhook to the app lost. The lifetime of a call is its audit row's write time
 * (recorded_at) minus the moment the bench ended it at Twilio. Both runs end the same calls at the same
 * moments and watch for as long, so that their provider requests compare too.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallsTableMapping } from "../src/config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../src/config/fields/identifiers.js";
import { daemonTables } from "../src/db/sql.js";
import { freePort } from "../src/dev/free-port.js";
import { EVENTS_PATH } from "../src/events/sink-server.js";
import { startTwilioSimulator, type TwilioSimulator } from "../src/sim/twilio-sim.js";
import {
  type BenchDatabase,
  createDatabase,
  seedDataset,
  simulatorCalls,
  type Verification,
  verify,
} from "./dataset.js";
import { checkBuild, type Daemon, startDaemon } from "./events-daemon.js";
import { endSchedule, type LifetimeSummary, summarizeLifetimes } from "./events-schedule.js";

const ACCOUNT_SID = `AC${"e".repeat(32)}`;
const AUTH_TOKEN = "bench-auth-token-0123456789";
/** After the last end, the runs watch one interval plus this long (a pass's own time); then give up. */
const SETTLE_MS = 30_000;
const GIVE_UP_MS = 60_000;

export interface EventsBenchOptions {
  calls: number;
  /** Every call ends within this many seconds after the daemon's first pass. */
  endOverSeconds: number;
  intervalSeconds: number;
  /** TWILIO_MAX_RPS, and the simulator's hard limit. */
  limitRps: number;
  latencyMs: number;
  deliveryDelayMs: number;
  seed: number;
}

/** What the simulator received while the runs watched (from the first end on), per route. */
export interface Requests {
  all: number;
  fetches: number;
  lists: number;
  /** A call's Events and Notifications: the diagnosis of why its end was lost. */
  records: number;
  rateLimited: number;
}

export interface EventsRun {
  events: boolean;
  calls: number;
  /** Calls the daemon ended (audit rows written as `ended`). */
  ended: number;
  /** call_reconciler_event_ends_total at the end: ends an event's check wrote. */
  endedByEvent: number | null;
  lifetime: LifetimeSummary | null;
  /** The same from the decision (decided_at) rather than the write: the write's own share is the gap. */
  decidedLifetime: LifetimeSummary | null;
  /** Audit rows for a call not yet ended at Twilio when they were written: ends of live calls. */
  endedWhileLive: number;
  /** Calls still active when the run stopped watching. */
  leftActive: number;
  /** The latest a scheduled end was made, after its moment (the bench's own timers). */
  scheduleSlipMs: number;
  watchedMs: number;
  requests: Requests;
  deliveries: { posts: number; delivered: number; failed: number } | null;
  verification: Verification | null;
  problems: string[];
  problemCount: number;
  error: string | null;
}

export interface EventsSummary {
  options: EventsBenchOptions;
  runs: EventsRun[];
  ok: boolean;
}

const requestsOf = (sim: TwilioSimulator): Requests => {
  const s = sim.stats;
  return {
    all: s.requests,
    fetches: s.fetches,
    lists: s.lists,
    records: s.events + s.notifications,
    rateLimited: s.rateLimited,
  };
};

const minus = (a: Requests, b: Requests): Requests => ({
  all: a.all - b.all,
  fetches: a.fetches - b.fetches,
  lists: a.lists - b.lists,
  records: a.records - b.records,
  rateLimited: a.rateLimited - b.rateLimited,
});

async function activeRows(db: BenchDatabase, m: CallsTableMapping): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${quoteQualifiedIdentifier(m.table)} WHERE ${q(m.status)} = 'active'`,
  );
  return rows[0]?.n ?? 0;
}

async function scrapeCounter(metricsUrl: string, name: string): Promise<number | null> {
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const value = new RegExp(`^${name} (\\S+)$`, "m").exec(await res.text())?.[1];
    return value === undefined ? null : Number(value);
  } catch {
    return null;
  }
}

/** Twilio's end of each call as the daemon must write it: the moment, to the whole second (Twilio's precision). */
async function recordTruth(db: BenchDatabase, ids: readonly string[], ends: readonly (number | null)[]) {
  const ended = ids.flatMap((id, k) => {
    const at = ends[k];
    return at === null || at === undefined ? [] : [[id, new Date(at).toISOString()] as const];
  });
  await db.pool.query(
    `UPDATE bench_truth t SET zombie = true, ended_at = date_trunc('second', u.end_at)
     FROM unnest($1::text[], $2::timestamptz[]) AS u(call_id, end_at) WHERE t.call_id = u.call_id`,
    [ended.map(([id]) => id), ended.map(([, at]) => at)],
  );
}

async function lifetimes(
  db: BenchDatabase,
  index: ReadonlyMap<string, number>,
  ends: readonly (number | null)[],
) {
  const { rows } = await db.pool.query<{ call_id: string; recorded_at: Date; decided_at: Date }>(
    `SELECT call_id, recorded_at, decided_at FROM ${daemonTables().actions} WHERE outcome = 'ended'`,
  );
  const written: number[] = [];
  const decided: number[] = [];
  let endedWhileLive = 0;
  for (const r of rows) {
    const k = index.get(r.call_id);
    const end = k === undefined ? null : (ends[k] ?? null);
    if (end === null || r.recorded_at.getTime() < end) {
      endedWhileLive++;
      continue;
    }
    written.push(r.recorded_at.getTime() - end);
    decided.push(r.decided_at.getTime() - end);
  }
  return {
    ended: rows.length,
    endedWhileLive,
    lifetime: summarizeLifetimes(written),
    decidedLifetime: summarizeLifetimes(decided),
  };
}

async function eventsRun(
  adminUrl: string,
  o: EventsBenchOptions,
  events: boolean,
  mapping: CallsTableMapping,
  log: (line: string) => void,
): Promise<EventsRun> {
  const label = events ? "with events" : "without events";
  const run: EventsRun = {
    events,
    calls: o.calls,
    ended: 0,
    endedByEvent: null,
    lifetime: null,
    decidedLifetime: null,
    endedWhileLive: 0,
    leftActive: o.calls,
    scheduleSlipMs: 0,
    watchedMs: 0,
    requests: { all: 0, fetches: 0, lists: 0, records: 0, rateLimited: 0 },
    deliveries: null,
    verification: null,
    problems: [],
    problemCount: 0,
    error: null,
  };
  const db = await createDatabase(adminUrl, events ? "events_on" : "events_off");
  let sim: TwilioSimulator | undefined;
  let daemon: Daemon | undefined;
  try {
    await seedDataset(db, mapping, o.calls, 0);
    const { rows: truth } = await db.pool.query<{ call_id: string; sid: string }>(
      "SELECT call_id, sid FROM bench_truth ORDER BY i",
    );
    const ids = truth.map((t) => t.call_id);
    const index = new Map(ids.map((id, k) => [id, k]));
    sim = await startTwilioSimulator({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      calls: await simulatorCalls(db),
      maxRps: o.limitRps,
      latencyMs: o.latencyMs,
    });
    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_MAX_RPS: String(o.limitRps),
      RECONCILE_INTERVAL_SECONDS: String(o.intervalSeconds),
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: "0",
      LOG_LEVEL: "info",
    };
    if (events) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}${EVENTS_PATH}`;
      Object.assign(env, { EVENTS_PORT: String(port), EVENTS_HOST: "127.0.0.1", EVENTS_URL: url });
      sim.addEventSink({ url });
      sim.setEventDelivery({ deliveryDelayMs: o.deliveryDelayMs });
    }
    daemon = startDaemon(env, 120_000);
    const metricsUrl = await daemon.firstPass;
    log(
      `${label}: ${o.calls} live calls, the daemon's first pass finished; ending them over ${o.endOverSeconds} s`,
    );

    const before = requestsOf(sim);
    const ends: (number | null)[] = ids.map(() => null);
    const t0 = performance.now();
    const schedule = endSchedule(o.calls, o.endOverSeconds * 1000, o.seed);
    for (const e of schedule) {
      const wait = t0 + e.atMs - performance.now();
      if (wait > 0) await sleep(wait);
      run.scheduleSlipMs = Math.max(run.scheduleSlipMs, performance.now() - t0 - e.atMs);
      const at = new Date();
      sim.endCall(truth[e.call]?.sid ?? "", { endTime: at, appResponseCode: 200 });
      ends[e.call] = at.getTime();
    }
    // Both runs watch as long: the same periodic passes fall within, and their requests compare.
    const lastEnd = performance.now();
    const settleBy = lastEnd + o.intervalSeconds * 1000 + SETTLE_MS;
    const giveUpBy = lastEnd + o.intervalSeconds * 1000 + GIVE_UP_MS;
    for (;;) {
      run.leftActive = await activeRows(db, mapping);
      const now = performance.now();
      if ((run.leftActive === 0 && now >= settleBy) || now >= giveUpBy) break;
      await sleep(1000);
    }
    run.watchedMs = performance.now() - t0;
    run.requests = minus(requestsOf(sim), before);
    const ev = sim.eventStats;
    if (events) run.deliveries = { posts: ev.posts, delivered: ev.delivered, failed: ev.failedDeliveries };
    run.endedByEvent = await scrapeCounter(metricsUrl, "call_reconciler_event_ends_total");
    await daemon.stop();
    const problems = daemon.problems();
    run.problems = problems.first;
    run.problemCount = problems.count;

    await recordTruth(db, ids, ends);
    Object.assign(run, await lifetimes(db, index, ends));
    run.verification = await verify(db, mapping, true);
    const l = run.lifetime;
    log(
      `${label}: ${run.ended} ended (${run.endedByEvent ?? "?"} by an event), ${run.leftActive} left active; ` +
        (l ? `lifetime median ${secs(l.medianMs)}, p95 ${secs(l.p95Ms)}, max ${secs(l.maxMs)}; ` : "") +
        `${run.requests.all} requests; ${run.verification.ok ? "correct" : `NOT CORRECT ${JSON.stringify(run.verification)}`}`,
    );
    for (const p of run.problems) log(`  logged: ${p}`);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    log(`${label}: FAILED: ${run.error}`);
  } finally {
    await daemon?.stop();
    await sim?.close();
    await db.drop();
  }
  return run;
}

const runOk = (r: EventsRun) =>
  r.error === null && r.verification?.ok === true && r.endedWhileLive === 0 && r.leftActive === 0;

export async function runEventsBench(
  adminUrl: string,
  o: EventsBenchOptions,
  mapping: CallsTableMapping,
  log: (line: string) => void,
): Promise<EventsSummary> {
  await checkBuild();
  const runs = [
    await eventsRun(adminUrl, o, false, mapping, log),
    await eventsRun(adminUrl, o, true, mapping, log),
  ];
  return { options: o, runs, ok: runs.every(runOk) };
}

/** The goal set for events: the p95 lifetime at most this long, at a 1 s delivery delay. */
export const EVENTS_P95_GOAL_MS = 5_000;

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const perCall = (n: number, calls: number) => (n / calls).toFixed(2);

export function renderEvents(s: EventsSummary): string {
  const o = s.options;
  const head = [
    "run",
    "ended",
    "by an event",
    "lifetime median",
    "p95",
    "max",
    "decided: median / p95",
    "Calls API GETs / call",
    "all requests / call",
    "429s",
    "correct",
  ];
  const rows = s.runs.map((r) => {
    const l = r.lifetime;
    const d = r.decidedLifetime;
    const correct = r.error
      ? `FAILED: ${r.error}`
      : runOk(r)
        ? "yes"
        : `NO (${r.leftActive} left active, ${r.endedWhileLive} ended while live, ${JSON.stringify(r.verification)})`;
    return [
      r.events ? "with events" : "without events",
      `${r.ended} / ${r.calls}`,
      r.endedByEvent === null ? "-" : String(r.endedByEvent),
      l ? secs(l.medianMs) : "-",
      l ? secs(l.p95Ms) : "-",
      l ? secs(l.maxMs) : "-",
      d ? `${secs(d.medianMs)} / ${secs(d.p95Ms)}` : "-",
      `${perCall(r.requests.fetches + r.requests.lists, r.calls)} (${r.requests.fetches} fetch + ${r.requests.lists} list)`,
      `${perCall(r.requests.all, r.calls)} (${r.requests.records} diagnosis)`,
      String(r.requests.rateLimited),
      correct,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const out = [
    `Zombie lifetime: ${o.calls} live calls ended at Twilio over ${o.endOverSeconds} s (seed ${o.seed}), each webhook lost; ` +
      `the built daemon with RECONCILE_INTERVAL_SECONDS=${o.intervalSeconds}, TWILIO_MAX_RPS=${o.limitRps} ` +
      `(the simulator's hard limit, ${o.latencyMs} ms a request); events delivered after ${o.deliveryDelayMs} ms`,
    "",
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    "",
    "lifetime: the audit row's write time (recorded_at) − the moment the call ended at Twilio; decided: the same from decided_at.",
    `requests: what the simulator received from the first end until the run stopped watching (${s.runs.map((r) => `${r.events ? "with" : "without"} events ${secs(r.watchedMs)}`).join(", ")}).`,
  ];
  const [off, on] = [s.runs.find((r) => !r.events), s.runs.find((r) => r.events)];
  for (const r of s.runs)
    if (r.deliveries)
      out.push(
        `deliveries: ${r.deliveries.posts} POSTs, ${r.deliveries.delivered} events delivered, ${r.deliveries.failed} failed`,
      );
  if (off && on && off.error === null && on.error === null) {
    const extra = (pick: (r: Requests) => number) =>
      ((pick(on.requests) - pick(off.requests)) / o.calls).toFixed(2);
    const calls = (r: Requests) => r.fetches + r.lists;
    const byEvent = on.endedByEvent;
    out.push(
      `requests with events − without, per call: Calls API ${extra(calls)}, all ${extra((r) => r.all)}` +
        (byEvent
          ? `; Calls API per call ended by an event: ${((calls(on.requests) - calls(off.requests)) / byEvent).toFixed(2)} more`
          : ""),
    );
  }
  out.push("", "Targets:");
  const p95 = on?.lifetime?.p95Ms;
  const mark = (met: boolean | null) => (met === null ? "n/a " : met ? "met " : "MISS");
  const goalMet = p95 === undefined || o.deliveryDelayMs !== 1000 ? null : p95 <= EVENTS_P95_GOAL_MS;
  out.push(
    `  [${mark(goalMet)}] p95 lifetime with events <= ${EVENTS_P95_GOAL_MS / 1000} s at a 1 s delivery delay: ${p95 === undefined ? "n/a" : secs(p95)}${o.deliveryDelayMs === 1000 ? "" : ` (delivery delay ${o.deliveryDelayMs} ms: not judged)`}`,
  );
  const median = off?.lifetime?.medianMs;
  out.push(
    `  [info] median lifetime without events, against half an interval (${secs((o.intervalSeconds * 1000) / 2)}): ${median === undefined ? "n/a" : secs(median)}`,
  );
  return out.join("\n");
}
