import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Config } from "../config/config.js";
import { holdLeadership } from "../daemon/leadership.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { Database, LeaseHolder, WriterLease } from "../model/index.js";
import { type PassDeps, type PassResult, runPass, totalUnverified, totalZombies } from "../reconcile/pass.js";
import { EXIT, UsageError } from "./errors.js";
import { listingIndexNote } from "./listing-index-report.js";
import { reportJson, reportTable } from "./report.js";
import { createRuntime, plainWarnings } from "./runtime.js";

export interface AuditOptions {
  apply: boolean;
  /**
   * With `apply`: write without the lease, even beside a leading replica (the conditional end of each row is
   * then the only guard); every audit row this run writes is marked `forced`.
   */
  force?: boolean;
  /** With `apply`: the operator confirms a realtime backlog is real; OpenAI's absences end calls even if suspect. */
  confirmRealtimeAbsences?: boolean;
  /** With `apply`: the operator confirms an unusual share of age-bound ends is real; they are written. */
  confirmAgeBound?: boolean;
  json: boolean;
  out: NodeJS.WritableStream;
  /** Where start-up warnings go, one plain line each: stderr unless said. */
  err?: NodeJS.WritableStream;
  twilioKeepAlive?: boolean;
}

/** `audit --apply` found the lease held by another replica: one line, exit 2, nothing written. */
export class LeaseHeldError extends UsageError {
  override name = "LeaseHeldError";
}

/** The exit codes (docs/operations.md), first that applies: zombies left (1), then unverified calls (3). */
export function auditExitCode(r: PassResult): number {
  const zombiesLeft = r.dryRun
    ? totalZombies(r)
    : r.writeFailures +
      r.locked +
      r.refused +
      r.realtimeHeldBack +
      r.ageBoundHeldBack +
      (r.leadershipLost ? 1 : 0);
  if (zombiesLeft > 0) return EXIT.zombiesLeft;
  // Stopped at PASS_DEADLINE_SECONDS: the rows it never reached are unverified too.
  if (totalUnverified(r) > 0 || r.aborted) return EXIT.unverified;
  return EXIT.ok;
}

/**
 * One pass. A dry run takes no lease. `--apply` takes the daemon's lease for the pass (renewed while it runs,
 * released at the end), so it never writes beside a leading replica; `--apply --force` takes none.
 */
export async function runAudit(
  config: Config,
  logger: Logger,
  opts: AuditOptions,
): Promise<{ result: PassResult; exitCode: number }> {
  const force = opts.force === true;
  if (force && !opts.apply)
    throw new UsageError("audit: --force goes with --apply (a dry run takes no lease)");
  if (opts.confirmRealtimeAbsences === true && !opts.apply)
    throw new UsageError("audit: --confirm-realtime-absences goes with --apply (a dry run ends nothing)");
  if (opts.confirmAgeBound === true && !opts.apply)
    throw new UsageError("audit: --confirm-age-bound goes with --apply (a dry run ends nothing)");
  const confirm = {
    ...(opts.confirmRealtimeAbsences === true ? { confirmRealtimeAbsences: true } : {}),
    ...(opts.confirmAgeBound === true ? { confirmAgeBound: true } : {}),
  };
  const runtime = await createRuntime(config, logger, {
    twilioKeepAlive: opts.twilioKeepAlive ?? false,
    warn: plainWarnings(logger, opts.err ?? process.stderr),
  });
  try {
    const store = force ? runtime.store.asForced() : runtime.store;
    await runtime.database.verify();
    // Checked 0 active calls because CALLS_COL_STATUS names the wrong column should not look like a clean bill.
    const statusWarning = await runtime.database.statusColumnWarning();
    if (statusWarning !== null) logger.warn(statusWarning);
    // Also logged as a warning (runtime's onListingIndex); printed below with the statement to run.
    const listingIndex = await store.listingIndex();
    const passDeps: PassDeps = { ...runtime.passDeps, store };
    const runId = randomUUID();
    const lease = runtime.database.writerLease({
      holder: `audit:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      ttlSeconds: config.leaderLeaseSeconds,
    });
    let result: PassResult;
    // The daemon's bound on one pass holds for audit too: a provider that answers slowly, or not at all,
    // cannot keep it (and its sockets) running for ever.
    const signal = AbortSignal.timeout(config.passDeadlineSeconds * 1000);
    if (!opts.apply) {
      result = await runPass(passDeps, { runId, dryRun: true, signal });
    } else if (force) {
      const other = await lease.currentHolder();
      logger.warn(
        { runId, leaseHolder: other?.holder ?? null, leaseExpiresAt: other?.expiresAt.toISOString() ?? null },
        "audit --apply --force: writing without the lease; the audit rows are marked forced",
      );
      result = await runPass(passDeps, { runId, dryRun: false, signal, ...confirm });
    } else {
      result = await underLease(runtime.database, lease, config.leaderLeaseSeconds, logger, (leadership) =>
        runPass({ ...passDeps, leadership }, { runId, dryRun: false, signal, ...confirm }),
      );
    }
    if (signal.aborted)
      logger.warn(
        { runId, deadlineSeconds: config.passDeadlineSeconds },
        "audit stopped at PASS_DEADLINE_SECONDS: the calls it did not reach are left as they are",
      );
    opts.out.write(
      opts.json
        ? `${JSON.stringify({ ...reportJson(result, config.statusMap), listingIndex }, null, 2)}\n`
        : `${reportTable(result, config.statusMap)}${listingIndexNote(listingIndex)}\n`,
    );
    return { result, exitCode: auditExitCode(result) };
  } finally {
    await runtime.close();
  }
}

/**
 * Runs `pass` holding the lease: taken first (LeaseHeldError when another replica holds it), renewed by the
 * daemon's heartbeat while the pass runs (a lost lease stops its writes), and handed back at the end, so a
 * daemon that starts next leads at once.
 */
async function underLease<T>(
  database: Database,
  lease: WriterLease,
  ttlSeconds: number,
  logger: Logger,
  pass: (leadership: AbortSignal) => Promise<T>,
): Promise<T> {
  await takeLease(database, lease);
  const leadership = holdLeadership(lease, ttlSeconds, logger);
  try {
    return await pass(leadership.signal);
  } finally {
    leadership.stop();
    await lease
      .release()
      .catch((err: unknown) =>
        logger.warn({ err: errorMessage(err) }, "could not release the lease; it expires by itself"),
      );
  }
}

async function takeLease(database: Database, lease: WriterLease): Promise<void> {
  // The holder read after a refusal may have let go meanwhile: ask again, a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await lease.acquireOrRenew()) return;
    const other = await lease.currentHolder();
    if (other !== null && other.holder !== lease.holder)
      throw new LeaseHeldError(heldLine(await database.leaseName(), other));
  }
  throw new LeaseHeldError(
    `audit --apply: the lease ${await database.leaseName()} keeps changing hands; nothing was written`,
  );
}

function heldLine(name: string, other: LeaseHolder): string {
  return (
    `audit --apply: another replica is reconciling: lease ${name} is held by ${other.holder} until ` +
    `${other.expiresAt.toISOString()} (in ${Math.ceil(other.secondsLeft)} s unless renewed); nothing was ` +
    "written. Run it again once that replica stops, or add --force"
  );
}
