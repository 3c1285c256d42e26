import pLimit from "p-limit";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type {
  ActiveCall,
  CallStore,
  DecisionPolicy,
  EndSource,
  Evidence,
  PageCursor,
  ProviderProbes,
  UnverifiedReason,
  Verdict,
} from "../model/index.js";
import type { AbsenceMemory } from "./absences.js";
import { decide } from "./decide.js";
import { createEndWriter, type PendingEnd } from "./end-writer.js";
import { passEvidence } from "./evidence-gathering.js";
import { listLiveCalls } from "./live-set.js";
import { type FindingOutcome, newPassResult, type PassResult } from "./pass-result.js";

export * from "./pass-result.js";

export interface PassDeps {
  store: CallStore;
  probes: ProviderProbes;
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
  /** How Twilio is asked; default per call. */
  twilioStrategy?: { mode: "auto" | "list-diff" | "per-call"; listDiffThreshold: number };
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

/** Pages being checked at once: enough to keep a provider busy, few enough to keep memory flat. */
const PAGES_IN_FLIGHT = 3;

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
  const result = newPassResult(opts.runId, opts.dryRun, startedAt);
  const maxFindings = deps.maxFindings ?? 10_000;
  const limit = pLimit(deps.concurrency);
  const cutoff = new Date(startedAt.getTime() - deps.policy.minCallAgeSeconds * 1000);

  const evidenceFor = passEvidence(deps.probes, deps.absences, logger, deps.clock);
  deps.absences.beginPass();

  const stopped = () => opts.signal?.aborted === true || result.leadershipLost || result.databaseLost;

  const record = (
    call: ActiveCall,
    evidence: Evidence,
    verdict: Verdict,
    at: Date,
    outcome: FindingOutcome,
  ) => {
    const ageSeconds = Math.floor((at.getTime() - call.startedAt.getTime()) / 1000);
    if (result.findings.length < maxFindings)
      result.findings.push({ call, ageSeconds, evidence, verdict, outcome });
    else result.findingsOmitted++;
  };
  const writer = createEndWriter(deps, opts, result, (p, outcome) =>
    record(p.row, p.evidence, p.verdict, p.decidedAt, outcome),
  );

  /** Asks, decides, and records; a zombie to end is returned for its page's batch write. */
  const checkRow = async (row: ActiveCall): Promise<PendingEnd | null> => {
    if (stopped()) return null;
    const evidence = await evidenceFor.gather(row, opts.signal);
    const now = deps.clock();
    const verdict = decide(row, evidence, now, deps.policy);
    result.checked++;
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
      record(row, evidence, verdict, now, "unverified");
      return null;
    }
    result.zombies[verdict.source]++;
    if (opts.dryRun) {
      logger.info(
        {
          runId: opts.runId,
          callId: row.id,
          newStatus: verdict.newStatus,
          endedAt: verdict.endedAt.toISOString(),
          source: verdict.source,
          why: verdict.why,
        },
        "zombie found (dry run, not ended)",
      );
      record(row, evidence, verdict, now, "would_end");
      return null;
    }
    return { row, evidence, verdict, decidedAt: now };
  };

  /** List-diff: one listing of Twilio's live calls replaces a fetch per live call (DESIGN.md step 2). */
  const maybeListLive = async (firstPage: ActiveCall[]) => {
    const strategy = deps.twilioStrategy ?? { mode: "per-call", listDiffThreshold: 0 };
    if (strategy.mode === "per-call" || deps.probes.twilio === null) return;
    const withSid = firstPage.filter((r) => r.twilioSid !== null).length;
    if (strategy.mode === "auto" && withSid < strategy.listDiffThreshold) return;
    const listed = await listLiveCalls(deps.probes.twilio, opts.signal);
    result.listRequests = listed.requests;
    if (!listed.ok) {
      logger.warn(
        { runId: opts.runId, detail: listed.detail },
        "could not list Twilio's live calls; asking per call",
      );
      return;
    }
    result.twilioStrategy = "list-diff";
    evidenceFor.useLiveSet(listed.live);
    logger.debug(
      { runId: opts.runId, live: listed.live.size, requests: listed.requests },
      "listed Twilio's live calls",
    );
  };

  /** Checks one page's rows, then writes its zombies as one batch. Never rejects. */
  const processPage = async (rows: ActiveCall[]) => {
    const decided = await Promise.all(rows.map((row) => limit(() => checkRow(row))));
    // Even when shutting down: these were decided before the signal, and their ends are one transaction.
    await writer.write(decided.filter((d): d is PendingEnd => d !== null));
  };

  // A few pages overlap: while one page's last provider answers come in, the next is already read and
  // asked about, so a page that needs few requests (list-diff) does not leave the budget idle. Memory
  // stays bounded by PAGES_IN_FLIGHT pages, and provider load by the shared concurrency limit.
  const inFlight: Promise<void>[] = [];
  let cursor: PageCursor | null = null;
  let firstPage = true;
  try {
    do {
      if (stopped()) break;
      const page = await store.listActivePage(cursor, cutoff, deps.pageSize);
      if (firstPage) {
        firstPage = false;
        await maybeListLive(page.rows);
      }
      inFlight.push(processPage(page.rows));
      if (inFlight.length >= PAGES_IN_FLIGHT) await inFlight.shift();
      cursor = page.next;
    } while (cursor !== null);
  } finally {
    // Also when reading a page failed: the pages already being checked finish (and write) first.
    await Promise.all(inFlight);
  }

  result.aborted = opts.signal?.aborted ?? false;
  if (!stopped()) deps.absences.endCompletePass();
  result.finishedAt = deps.clock();
  return result;
}
