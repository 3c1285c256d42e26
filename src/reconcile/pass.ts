import pLimit from "p-limit";
import type { CallStore, PageCursor } from "../db/store.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Evidence } from "../providers/evidence.js";
import type { AbsenceMemory } from "./absences.js";
import { decide } from "./decide.js";
import { type Probes, passEvidence } from "./evidence-gathering.js";
import type { ActiveCall, DecisionPolicy, EndSource, UnverifiedReason, Verdict } from "./types.js";

export interface PassDeps {
  store: CallStore;
  probes: Probes;
  /** Realtime absences seen by earlier passes (the daemon keeps one for its lifetime). */
  absences: AbsenceMemory;
  metrics?: Metrics;
  /**
   * Asked before every end: false when this replica can no longer count on being the leader (its lease could
   * not be renewed). The pass then stops writing at once; the next leader picks the rest up.
   */
  canWrite?: () => Promise<boolean>;
  /** Told of every end after it committed (the downstream webhook); must not throw or block. */
  onEnded?: (event: EndedEvent) => void;
  policy: DecisionPolicy;
  clock: () => Date;
  logger: Logger;
  pageSize: number;
  /** Rows checked at once: bounds both provider load and memory. */
  concurrency: number;
  /** Findings kept for the report; beyond it they are only counted (the pass itself stays flat in memory). */
  maxFindings?: number;
}

export interface EndedEvent {
  callId: string;
  status: string;
  endedAt: Date;
  source: EndSource;
  runId: string;
}

export interface PassOptions {
  runId: string;
  dryRun: boolean;
  /** Aborting stops taking new rows; ends already started commit or roll back on their own. */
  signal?: AbortSignal;
}

/** What happened to a row that was not simply live. */
export type FindingOutcome =
  | "ended"
  | "would_end"
  | "already_ended"
  | "write_failed"
  /** Left for the next leader: this replica lost its lease during the pass. */
  | "not_leader"
  | "unverified";

export interface Finding {
  call: ActiveCall;
  ageSeconds: number;
  evidence: Evidence;
  verdict: Verdict;
  outcome: FindingOutcome;
}

export interface PassResult {
  runId: string;
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date;
  checked: number;
  live: number;
  /** Confirmed zombies, by what confirmed them (in dry-run: would be ended). */
  zombies: Record<EndSource, number>;
  ended: number;
  /** Zombies whose row was no longer active at write time: a webhook won the race. */
  alreadyEnded: number;
  writeFailures: number;
  unverified: Partial<Record<UnverifiedReason, number>>;
  /** True when a provider failed to answer for some rows: the pass saw less than it should. */
  providerErrors: number;
  aborted: boolean;
  /** The lease could not be renewed during the pass: it stopped writing. */
  leadershipLost: boolean;
  realtimeHangups: { hung_up: number; already_gone: number; error: number };
  findings: Finding[];
  findingsOmitted: number;
}

/** Reasons that are normal answers, not failures of a provider or of the pass. */
const EXPECTED_UNVERIFIED: ReadonlySet<UnverifiedReason> = new Set([
  "not_found",
  "no_provider",
  "absence_unconfirmed",
  "no_end_time",
  "end_time_in_future",
]);

/**
 * One level-triggered pass: page through the active rows, ask the providers, decide, end the confirmed
 * zombies. Running it twice changes nothing the second time. Throws only when the database cannot be read.
 */
export async function runPass(deps: PassDeps, opts: PassOptions): Promise<PassResult> {
  const { store, logger } = deps;
  const startedAt = deps.clock();
  const result: PassResult = {
    runId: opts.runId,
    dryRun: opts.dryRun,
    startedAt,
    finishedAt: startedAt,
    checked: 0,
    live: 0,
    zombies: { twilio: 0, openai: 0, age_bound: 0 },
    ended: 0,
    alreadyEnded: 0,
    writeFailures: 0,
    unverified: {},
    providerErrors: 0,
    aborted: false,
    leadershipLost: false,
    realtimeHangups: { hung_up: 0, already_gone: 0, error: 0 },
    findings: [],
    findingsOmitted: 0,
  };
  const maxFindings = deps.maxFindings ?? 10_000;
  const limit = pLimit(deps.concurrency);
  const cutoff = new Date(startedAt.getTime() - deps.policy.minCallAgeSeconds * 1000);

  const evidenceFor = passEvidence(deps.probes, deps.absences, logger, deps.clock);
  deps.absences.beginPass();

  const stopped = () => opts.signal?.aborted === true || result.leadershipLost || result.writeFailures > 0;

  const checkRow = async (row: ActiveCall): Promise<void> => {
    if (stopped()) return;
    const evidence = await evidenceFor.gather(row, opts.signal);
    const now = deps.clock();
    const verdict = decide(row, evidence, now, deps.policy);
    result.checked++;
    const outcome = await act(row, evidence, verdict, now);
    if (outcome === null) return;
    const finding: Finding = {
      call: row,
      ageSeconds: Math.floor((now.getTime() - row.startedAt.getTime()) / 1000),
      evidence,
      verdict,
      outcome,
    };
    if (result.findings.length < maxFindings) result.findings.push(finding);
    else result.findingsOmitted++;
  };

  const act = async (row: ActiveCall, evidence: Evidence, verdict: Verdict, now: Date) => {
    if (verdict.action === "keep") {
      result.live++;
      return null;
    }
    if (verdict.action === "unverified") {
      result.unverified[verdict.reason] = (result.unverified[verdict.reason] ?? 0) + 1;
      if (!EXPECTED_UNVERIFIED.has(verdict.reason)) result.providerErrors++;
      logger.info(
        { runId: opts.runId, callId: row.id, reason: verdict.reason, why: verdict.why },
        "call unverified",
      );
      return "unverified" as const;
    }
    result.zombies[verdict.source]++;
    const action = {
      runId: opts.runId,
      callId: row.id,
      newStatus: verdict.newStatus,
      endedAt: verdict.endedAt.toISOString(),
      source: verdict.source,
      why: verdict.why,
    };
    if (opts.dryRun) {
      logger.info(action, "zombie found (dry run, not ended)");
      return "would_end" as const;
    }
    if (result.leadershipLost || (deps.canWrite !== undefined && !(await deps.canWrite()))) {
      if (!result.leadershipLost)
        logger.warn({ runId: opts.runId }, "leader lease not renewed: this pass stops writing");
      result.leadershipLost = true;
      return "not_leader" as const;
    }
    try {
      const ended = await store.endCall({
        call: row,
        newStatus: verdict.newStatus,
        endedAt: verdict.endedAt,
        source: verdict.source,
        runId: opts.runId,
        evidence,
        decidedAt: now,
      });
      if (ended) {
        result.ended++;
        deps.metrics?.callsEnded.inc({ status: verdict.newStatus, source: verdict.source });
        logger.info(action, "zombie call ended");
        deps.onEnded?.({
          callId: row.id,
          status: verdict.newStatus,
          endedAt: verdict.endedAt,
          source: verdict.source,
          runId: opts.runId,
        });
        if (verdict.source === "twilio" && row.openaiId !== null) await hangupOrphan(row.id, row.openaiId);
        return "ended" as const;
      }
      result.alreadyEnded++;
      logger.info(action, "zombie already ended by someone else; left as it is");
      return "already_ended" as const;
    } catch (err) {
      result.writeFailures++;
      // The write rolled back. Whatever the cause (most often the database going away), asking the providers
      // about more rows is wasted: stop taking rows; the next pass starts over.
      logger.error(
        { ...action, err: err instanceof Error ? err.message : String(err) },
        "could not end zombie call; the pass stops here and the next one retries",
      );
      return "write_failed" as const;
    }
  };

  /** The phone leg is over but the realtime session may still be billing: end it (a 404 means it was gone). */
  const hangupOrphan = async (callId: string, realtimeId: string) => {
    if (deps.probes.hangupRealtime === null) return;
    const outcome = await deps.probes.hangupRealtime(realtimeId, opts.signal);
    deps.metrics?.realtimeHangups.inc({ outcome: outcome.kind === "error" ? "error" : outcome.kind });
    result.realtimeHangups[outcome.kind === "error" ? "error" : outcome.kind]++;
    const fields = { runId: opts.runId, callId, realtimeCallId: realtimeId, outcome: outcome.kind };
    if (outcome.kind === "error")
      logger.warn({ ...fields, detail: outcome.detail }, "could not hang up orphaned realtime session");
    else logger.info(fields, "orphaned realtime session hung up");
  };

  let cursor: PageCursor | null = null;
  do {
    if (stopped()) break;
    const page = await store.listActivePage(cursor, cutoff, deps.pageSize);
    await Promise.all(page.rows.map((row) => limit(() => checkRow(row))));
    cursor = page.next;
  } while (cursor !== null);

  result.aborted = opts.signal?.aborted ?? false;
  if (!stopped()) deps.absences.endCompletePass();
  result.finishedAt = deps.clock();
  return result;
}

export type PassOutcome = "success" | "partial" | "failed";

/** A pass whose writes failed did not do its job (the database went away): failed, not partial. */
export function passOutcome(r: PassResult): PassOutcome {
  if (r.writeFailures > 0) return "failed";
  return r.aborted || r.leadershipLost || r.providerErrors > 0 ? "partial" : "success";
}

export function totalZombies(r: PassResult): number {
  return r.zombies.twilio + r.zombies.openai + r.zombies.age_bound;
}

export function totalUnverified(r: PassResult): number {
  return Object.values(r.unverified).reduce((a, b) => a + (b ?? 0), 0);
}
