import { mapStatus } from "../config/status-map.js";
import type { Evidence, SkipReason, Verdict } from "../model/index.js";
import {
  type Finding,
  type PassResult,
  passOutcome,
  totalUnverified,
  totalZombies,
} from "../reconcile/pass.js";
import { terminalId, terminalText } from "./terminal-text.js";

/** The machine-readable report of one pass: the shape of `audit --json` (and, later, GET /zombies). */
/** STATUS_MAP: the reports show the value the calls table gets (or would get), not the provider's word for it. */
type StatusMap = Readonly<Record<string, string>>;

export function reportJson(r: PassResult, statusMap: StatusMap = {}) {
  return {
    runId: r.runId,
    dryRun: r.dryRun,
    outcome: passOutcome(r),
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt.toISOString(),
    summary: {
      checked: r.checked,
      live: r.live,
      zombies: { ...r.zombies, total: totalZombies(r) },
      ended: r.ended,
      alreadyEnded: r.alreadyEnded,
      writeFailures: r.writeFailures,
      locked: r.locked,
      refused: r.refused,
      realtimeHeldBack: r.realtimeHeldBack,
      realtimeSuspect: r.realtimeSuspect,
      ageBoundHeldBack: r.ageBoundHeldBack,
      ageBoundSuspect: r.ageBoundSuspect,
      unverified: { ...r.unverified, total: totalUnverified(r) },
    },
    calls: r.findings.map((f) => ({
      callId: f.call.id,
      twilioCallSid: f.call.twilioSid,
      openaiCallId: f.call.openaiId,
      status: f.call.status,
      // A row's start may be no time at all (±infinity in the table): null, as JSON has no other word for it.
      startedAt: Number.isFinite(f.call.startedAt.getTime()) ? f.call.startedAt.toISOString() : null,
      ageSeconds: f.ageSeconds,
      evidence: f.evidence,
      decision: f.verdict.action,
      outcome: f.outcome,
      ...(f.verdict.action === "end"
        ? {
            newStatus: mapStatus(statusMap, f.verdict.newStatus),
            providerStatus: f.verdict.newStatus,
            endedAt: f.verdict.endedAt.toISOString(),
            source: f.verdict.source,
          }
        : {}),
      ...(f.verdict.action === "unverified" ? { reason: f.verdict.reason } : {}),
      why: f.verdict.why,
    })),
    callsOmitted: r.findingsOmitted,
  };
}

/** Why a provider was not asked, for the cells below: "-" when there was nothing to ask. */
const SKIPPED: Record<SkipReason, string> = {
  no_id: "-",
  not_needed: "-",
  not_configured: "not configured",
  backing_off: "backing off",
  held: "held",
  within_session_cap: "not probed: within the session cap",
  // One column holds both providers' ids: the row's id is the other provider's, or no provider's.
  other_provider: "not its id",
  unrecognised_id: "unrecognised id",
};

/** Provider times are whole seconds; milliseconds would only add noise to the table. */
function isoSeconds(d: Date): string {
  return d.getUTCMilliseconds() === 0 ? d.toISOString().replace(".000Z", "Z") : d.toISOString();
}

export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

function twilioCell(e: Evidence["twilio"]): string {
  switch (e.kind) {
    case "skipped":
      return SKIPPED[e.why];
    case "live":
      return e.status;
    case "ended":
      return e.endTimeSource ? `${e.status} (${e.endTimeSource})` : `${e.status} (no time)`;
    case "not_found":
      return "404 not found";
    case "error":
      return `error: ${e.reason}`;
  }
}

/**
 * An absence is confirmed once it has been seen gone long enough (decide.ts), which the evidence alone does not
 * tell: only an end on OpenAI's word, or a contradiction with a live sighting (judged after the confirmation),
 * says it was. Seen before but otherwise, the cell must not contradict an `absence_unconfirmed` beside it.
 */
function openaiCell(e: Evidence["openai"], v: Verdict): string {
  switch (e.kind) {
    case "skipped":
      return SKIPPED[e.why];
    case "live":
      return "live";
    case "gone":
      if (e.firstSeenGoneAt === null) return "gone (1st sighting)";
      return (v.action === "end" && v.source === "openai") ||
        (v.action === "unverified" && v.reason === "sightings_conflict")
        ? "gone (confirmed)"
        : "gone (not yet confirmed)";
    case "error":
      return `error: ${e.reason}`;
  }
}

function decisionCell(f: Finding, statusMap: StatusMap): string {
  const v = f.verdict;
  if (v.action === "unverified") return `unverified: ${v.reason}`;
  if (v.action === "keep") return "keep";
  const verb = {
    ended: "ended",
    would_end: "would end",
    already_ended: "raced, untouched",
    write_failed: "WRITE FAILED",
    locked: "left (row locked by the app)",
    refused: "REFUSED by the table",
    evidence_suspect: "held (OpenAI evidence suspect)",
    age_bound_share: "held (too many age-bound ends)",
    not_leader: "left (lease lost)",
    unverified: "",
  }[f.outcome];
  return `${verb} → ${mapStatus(statusMap, v.newStatus)} (${v.source})`;
}

/** The human report: one line per zombie or unverified call, then the totals. */
export function reportTable(r: PassResult, statusMap: StatusMap = {}): string {
  const header = ["CALL ID", "AGE", "TWILIO", "OPENAI", "DECISION", "END TIME"];
  // Oldest first: the longest-stuck rows are what on-call looks for.
  const findings = [...r.findings].sort(
    (a, b) => (b.ageSeconds || 0) - (a.ageSeconds || 0) || a.call.id.localeCompare(b.call.id),
  );
  const rows = findings.map((f) => [
    terminalId(f.call.id),
    formatAge(f.ageSeconds),
    terminalText(twilioCell(f.evidence.twilio)),
    terminalText(openaiCell(f.evidence.openai, f.verdict)),
    terminalText(decisionCell(f, statusMap)),
    f.verdict.action === "end" ? isoSeconds(f.verdict.endedAt) : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const out: string[] = [];
  out.push(
    r.dryRun
      ? `call-reconciler audit: DRY RUN, nothing was written (run ${r.runId}; add --apply to end the zombies)`
      : r.writeFailures + r.refused > 0
        ? `call-reconciler audit: APPLIED WITH FAILURES (run ${r.runId}): ${r.writeFailures + r.refused} ends were not written (the rows marked WRITE FAILED or REFUSED; the log says why)`
        : `call-reconciler audit: APPLIED (run ${r.runId})`,
  );
  if (rows.length > 0) out.push("", line(header), ...rows.map(line));
  if (r.findingsOmitted > 0) out.push(`… and ${r.findingsOmitted} more (see --json or the logs)`);
  out.push("", summaryLine(r));
  return out.join("\n");
}

export function summaryLine(r: PassResult): string {
  const zombies = totalZombies(r);
  const bySource = Object.entries(r.zombies)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  const unverified = totalUnverified(r);
  const byReason = Object.entries(r.unverified)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  const parts = [
    `checked ${r.checked} active calls`,
    `${r.live} live`,
    `${zombies} zombies${bySource ? ` (${bySource})` : ""}`,
    r.dryRun ? "0 ended (dry run)" : `${r.ended} ended`,
  ];
  if (r.alreadyEnded > 0) parts.push(`${r.alreadyEnded} already ended by a webhook`);
  if (r.locked > 0) parts.push(`${r.locked} left locked by the app (next pass)`);
  if (r.refused > 0) parts.push(`${r.refused} REFUSED by the calls table (see STATUS_MAP)`);
  if (r.writeFailures > 0) parts.push(`${r.writeFailures} FAILED to write`);
  if (r.realtimeSuspect !== null)
    parts.push(`${r.realtimeHeldBack} realtime-only zombies NOT ended: ${r.realtimeSuspect}`);
  if (r.ageBoundSuspect !== null)
    parts.push(
      `${r.ageBoundHeldBack} age-bound zombies NOT ended: ${r.ageBoundSuspect}; check ACTIVE_STATUSES, or confirm with --confirm-age-bound`,
    );
  parts.push(`${unverified} unverified${byReason ? ` (${byReason})` : ""}`);
  if (r.aborted) parts.push("pass interrupted");
  return parts.join(", ");
}
