import type { CallState, RecordedEnd } from "../model/index.js";
import { ID_WIDTH, terminalId, terminalText } from "./terminal-text.js";

/** What became of one end of the run (or of the call) being reverted. */
export type RevertOutcome =
  /** Dry run: still exactly as the end left it; `--apply` would restore it. */
  | "would_restore"
  /** Restored now (previous status, NULL end time), with its audit row, and held. */
  | "restored"
  /** Left as it is: the app (or someone) wrote the row since the end. */
  | "changed"
  /** Left: the row is no longer in the calls table. */
  | "gone"
  /** Left for now: the app held the row locked (never waited for); run the revert again. */
  | "locked"
  /** Nothing to do: a revert undid this end already. */
  | "already_reverted";

export interface RevertItem {
  end: RecordedEnd;
  /** Where the call stands now (after the restore, with `--apply`); null when a revert undid the end before. */
  now: CallState | null;
  outcome: RevertOutcome;
}

export interface RevertReport {
  /** The run id of this revert's own audit rows (with `--apply`). */
  revertRunId: string;
  dryRun: boolean;
  target: { run?: string; call?: string };
  items: RevertItem[];
  /** Why there was nothing to revert, when so. */
  note: string | null;
}

const OUTCOMES: readonly RevertOutcome[] = [
  "would_restore",
  "restored",
  "changed",
  "gone",
  "locked",
  "already_reverted",
];

function counts(r: RevertReport): Record<RevertOutcome, number> {
  const c = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<RevertOutcome, number>;
  for (const i of r.items) c[i.outcome]++;
  return c;
}

const iso = (d: Date | null): string | null =>
  d === null ? null : d.getUTCMilliseconds() === 0 ? d.toISOString().replace(".000Z", "Z") : d.toISOString();

/** The shape of `revert --json`. */
export function revertJson(r: RevertReport) {
  return {
    revertRunId: r.revertRunId,
    dryRun: r.dryRun,
    ...r.target,
    summary: counts(r),
    note: r.note,
    calls: r.items.map(({ end, now, outcome }) => ({
      callId: end.callId,
      auditId: end.auditId,
      runId: end.runId,
      outcome,
      ended: { status: end.newStatus, endedAt: iso(end.endedAt), source: end.source },
      now: now === null || !now.present ? null : { status: now.status, endedAt: iso(now.endedAt) },
      restore: { status: end.previousStatus, endedAt: null },
      revertedBy: end.revertedBy ?? now?.revertedBy ?? null,
    })),
  };
}

function outcomeCell(i: RevertItem): string {
  const restore = `${i.end.previousStatus}, ended_at NULL, held`;
  switch (i.outcome) {
    case "would_restore":
      return `would restore → ${restore}`;
    case "restored":
      return `RESTORED → ${restore}`;
    case "changed":
      return "left as it is: written since the run (by the app?)";
    case "gone":
      return "left: the row is no longer in the calls table";
    case "locked":
      return "left: row locked by the app; run the revert again";
    case "already_reverted":
      return `already reverted (revert run ${i.end.revertedBy ?? i.now?.revertedBy ?? "?"})`;
  }
}

function nowCell(i: RevertItem): string {
  if (i.now === null) return "-";
  if (!i.now.present) return "(no row)";
  // The app writes the status column: it can hold anything, at any length.
  return `${terminalText(i.now.status ?? "?", ID_WIDTH)} ${iso(i.now.endedAt) ?? "(ended_at NULL)"}`;
}

/** The human report: one line per end of the run (or the call), then the totals. */
export function revertTable(r: RevertReport): string {
  const what = targetShown(r);
  const out = [
    r.dryRun
      ? `call-reconciler revert: DRY RUN, nothing was written (${what}; add --apply to restore)`
      : `call-reconciler revert: APPLIED (${what}; this revert's run id ${r.revertRunId})`,
  ];
  const header = ["CALL ID", "NOW", "THE RUN WROTE", "OUTCOME"];
  const rows = r.items.map((i) => [
    terminalId(i.end.callId),
    nowCell(i),
    terminalText(`${i.end.newStatus} ${iso(i.end.endedAt)} (${i.end.source})`),
    terminalText(outcomeCell(i)),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  if (rows.length > 0) out.push("", line(header), ...rows.map(line));
  out.push("", r.note === null ? summaryLine(r) : terminalText(r.note));
  return out.join("\n");
}

/** The run (a checked UUID) or the call (as the operator typed it, which may have been copied from the table). */
const targetShown = (r: RevertReport): string =>
  r.target.run !== undefined ? `run ${r.target.run}` : `call ${terminalId(r.target.call ?? "")}`;

function summaryLine(r: RevertReport): string {
  const c = counts(r);
  const what = targetShown(r);
  const parts = [`${r.items.length} ${r.items.length === 1 ? "end" : "ends"} of ${what}`];
  if (r.dryRun) parts.push(`${c.would_restore} would be restored and held`);
  else if (c.restored === 0) parts.push("0 restored");
  else
    parts.push(
      `${c.restored} restored and held (\`call-reconciler release <call-id>\` lets a pass judge one again)`,
    );
  if (c.changed > 0) parts.push(`${c.changed} left as they are: written since the run`);
  if (c.gone > 0) parts.push(`${c.gone} left: row gone`);
  if (c.locked > 0) parts.push(`${c.locked} left: locked by the app (run again)`);
  if (c.already_reverted > 0) parts.push(`${c.already_reverted} already reverted`);
  return parts.join(", ");
}
