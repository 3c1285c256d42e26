import { randomUUID } from "node:crypto";
import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import type { CallState, RecordedEnd, RevertBook } from "../model/index.js";
import { openDatabase } from "./database.js";
import { EXIT, UsageError } from "./errors.js";
import { operator } from "./hold.js";
import {
  type RevertItem,
  type RevertOutcome,
  type RevertReport,
  revertJson,
  revertTable,
} from "./revert-report.js";
import { terminalId } from "./terminal-text.js";

export interface RevertOptions {
  /** The run whose ends to undo (`--run`), or one call's last end (`--call`): exactly one of them. */
  run?: string;
  call?: string;
  apply: boolean;
  json: boolean;
  out: NodeJS.WritableStream;
}

/** Ends read, checked and restored at a time: one statement (and one transaction) per batch, like an end. */
export const REVERT_BATCH = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The exit codes, the first that applies (2, bad usage, is thrown): 1 calls left that could be restored (the
 * dry run, or rows the app held locked); 3 calls that cannot be restored (the app wrote since, or the row is
 * gone); 0 otherwise (all restored, already reverted, or nothing to revert).
 */
export function revertExitCode(items: readonly RevertItem[]): number {
  const n = (o: RevertOutcome) => items.filter((i) => i.outcome === o).length;
  if (n("would_restore") + n("locked") > 0) return EXIT.zombiesLeft;
  if (n("changed") + n("gone") > 0) return EXIT.unverified;
  return EXIT.ok;
}

/** What became of one end, given where its call stands now (after the restore, with `--apply`). */
function outcomeOf(
  end: RecordedEnd,
  state: CallState | undefined,
  restored: boolean,
  dryRun: boolean,
): RevertOutcome {
  if (end.revertedBy !== null) return "already_reverted";
  if (restored) return "restored";
  if (state === undefined || !state.present) return "gone";
  if (state.revertedBy !== null) return "already_reverted";
  if (state.asWritten) return dryRun ? "would_restore" : "locked";
  return "changed";
}

/**
 * `revert --run <id> | --call <id> [--apply]`: undoes the daemon's ends. A dry run unless `apply`. Each call
 * is restored only if its row is still exactly as the end left it; every restored call is held.
 */
export async function runRevert(
  config: Config,
  logger: Logger,
  opts: RevertOptions,
): Promise<{ exitCode: number; report: RevertReport }> {
  const target = checkTarget(opts);
  const database = await openDatabase(config, { connections: 2 });
  try {
    await database.verifyWriter();
    await database.checkBinding({ bind: true });
    const store = database.reverts();
    const report: RevertReport = {
      revertRunId: randomUUID(),
      dryRun: !opts.apply,
      target,
      items: [],
      note: null,
    };
    const by = operator();

    const handle = async (ends: readonly RecordedEnd[]) => {
      // Ends reverted already are passed along too (for where their call stands): the statement skips them.
      const { restored, states } = opts.apply
        ? await store.restore(ends, report.revertRunId, by)
        : { restored: new Set<string>(), states: await store.states(ends) };
      for (const end of ends) {
        const state = states.get(end.auditId);
        const outcome = outcomeOf(end, state, restored.has(end.auditId), !opts.apply);
        report.items.push({ end, now: state ?? null, outcome });
        if (outcome === "restored")
          logger.info(
            {
              revertRunId: report.revertRunId,
              callId: end.callId,
              run: end.runId,
              status: end.previousStatus,
            },
            "call restored and held",
          );
        else if (opts.apply && (outcome === "changed" || outcome === "locked" || outcome === "gone"))
          logger.warn({ revertRunId: report.revertRunId, callId: end.callId, outcome }, "call not restored");
      }
    };

    if (target.call !== undefined) {
      const call = await database.holds().callById(target.call);
      const end = await store.lastEndOf(call?.callId ?? target.call);
      if (end === null) {
        if (call === null)
          throw new UsageError(
            `revert: no call ${terminalId(target.call)} in ${config.calls.table}, and no end of it in call_reconciler_actions`,
          );
        report.note = `call ${call.callId} was never ended by call-reconciler: nothing to revert`;
      } else await handle([end]);
    } else {
      const run = target.run as string;
      for (let after = "0"; ; ) {
        const page = await store.runEnds(run, after, REVERT_BATCH);
        if (page.length > 0) await handle(page);
        const last = page[page.length - 1];
        if (last === undefined || page.length < REVERT_BATCH) break;
        after = last.auditId;
      }
      if (report.items.length === 0) report.note = await emptyRun(store, run);
    }
    opts.out.write(
      opts.json ? `${JSON.stringify(revertJson(report), null, 2)}\n` : `${revertTable(report)}\n`,
    );
    return { exitCode: revertExitCode(report.items), report };
  } finally {
    await database.close();
  }
}

function checkTarget(opts: RevertOptions): { run?: string; call?: string } {
  if ((opts.run === undefined) === (opts.call === undefined))
    throw new UsageError("revert: give exactly one of --run <run-id> and --call <call-id> (see --help)");
  if (opts.run !== undefined) {
    if (!UUID.test(opts.run))
      throw new UsageError(
        `revert: --run takes a run id (a UUID, as audit --apply prints it), not ${JSON.stringify(opts.run)}`,
      );
    return { run: opts.run.toLowerCase() };
  }
  if (opts.call === undefined || opts.call.trim() === "")
    throw new UsageError("revert: --call takes a call id (see --help)");
  return { call: opts.call.trim() };
}

/** A run with no end to revert: an id no audit row carries is bad usage (2); a run that ended nothing is not. */
async function emptyRun(store: RevertBook, run: string): Promise<string> {
  const outcomes = await store.runOutcomes(run);
  const recorded = Object.entries(outcomes).map(([outcome, n]) => `${n} ${outcome}`);
  if (recorded.length === 0)
    throw new UsageError(
      `revert: no run ${run} in call_reconciler_actions (a dry run writes nothing; audit --apply prints its run id)`,
    );
  return `run ${run} ended no call (its audit rows: ${recorded.join(", ")}): nothing to revert`;
}
