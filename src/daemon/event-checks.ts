/**
 * The leader's checks of the calls Event Streams reported ended: each batch of queued calls is one pass over
 * their rows only (the same evidence, decision, guards and conditional end as the periodic pass), so an event
 * shortens a zombie's life to seconds and never decides anything by itself. The periodic pass stays the
 * resync: an event lost, late or refused costs one interval, as before events existed.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { causeFromEvent } from "../diagnosis/event-cause.js";
import { errorMessage } from "../error-message.js";
import type { CallNudge, DiagnosisQueue } from "../model/index.js";
import { type PassRecord, runPass, totalUnverified, totalZombies } from "../reconcile/pass.js";
import type { NudgeQueue } from "./nudge-queue.js";
import type { FoundBy } from "./pass-record.js";
import type { LoopState, TickDeps } from "./tick.js";

/** Events arriving together (Twilio batches, several calls ending at once) are checked in one pass. */
const GATHER_MS = 200;
/** Calls checked by one pass: one statement reads their rows. */
const MAX_CALLS_PER_CHECK = 200;
/** A check starts only with this much lease left (a third of a shorter lease): it must end while this replica leads. */
const MIN_LEASE_LEFT_MS = 5_000;

export interface EventCheckDeps {
  tickDeps: TickDeps;
  state: LoopState;
  queue: NudgeQueue;
  /** The record step of a pass whose ends events found. */
  record(found: FoundBy): PassRecord;
  /** Where an event's cause of a lost end is settled; null when diagnoses are off. */
  diagnoses: DiagnosisQueue | null;
  /** A cause settled from an event (counted as the Call Events API's are). */
  onCauseSettled(cause: string): void;
}

/** Runs until `signal` aborts, then returns once the check in flight has finished. Never throws. */
export async function eventChecks(deps: EventCheckDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await deps.queue.waitForWork(signal);
    await sleep(GATHER_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    // A replica that stopped leading drops what it queued: the leader's pass finds those calls.
    if (!deps.state.leader) {
      deps.queue.clear();
      continue;
    }
    await checkReported(deps, deps.queue.take(MAX_CALLS_PER_CHECK), signal);
  }
}

/** One pass over the rows of the reported calls. */
export async function checkReported(
  deps: EventCheckDeps,
  nudges: readonly CallNudge[],
  signal: AbortSignal,
): Promise<void> {
  const { tickDeps } = deps;
  const log = tickDeps.logger;
  const leaseLeftMs = tickDeps.lease.remainingMs();
  // A short lease (a test's, seconds long) is never 5 s from its end: a third of it is as safe.
  const needMs = Math.min(MIN_LEASE_LEFT_MS, (tickDeps.leaseSeconds * 1000) / 3);
  if (leaseLeftMs < needMs) {
    // Checked once the loop has renewed the lease, or by the next leader's pass if this replica loses it.
    deps.queue.add(nudges);
    return;
  }
  const bySid = new Map(nudges.map((n) => [n.callSid, n]));
  const ended: { callId: string; callSid: string }[] = [];
  const record = deps.record({ by: "event", eventAt: (sid) => bySid.get(sid)?.eventAt });
  const runId = randomUUID();
  const dryRun = tickDeps.dryRun;
  try {
    const r = await runPass(
      {
        ...tickDeps.passDeps,
        // Backing off failing rows is the periodic pass's: an event is a reason to ask now.
        backoff: undefined,
        // At any age: MIN_CALL_AGE_SECONDS leaves the app's own webhook time to arrive, and an event is the copy
        // of a status callback Twilio has already delivered to the app (its answer is in the event).
        policy: { ...tickDeps.passDeps.policy, minCallAgeSeconds: 0 },
        record: {
          ...record,
          ended: (e) => {
            record.ended(e);
            if (e.callSid !== null) ended.push({ callId: e.callId, callSid: e.callSid });
          },
        },
        onProgress: () => tickDeps.progress.mark(),
      },
      {
        runId,
        dryRun,
        signal: AbortSignal.any([signal, AbortSignal.timeout(Math.floor(leaseLeftMs - needMs / 2))]),
        callSids: [...bySid.keys()],
      },
    );
    const causes = dryRun ? 0 : await settleCauses(deps, ended, bySid);
    log.info(
      {
        runId,
        trigger: "event",
        reported: nudges.length,
        checked: r.checked,
        live: r.live,
        zombies: totalZombies(r),
        ended: r.ended,
        alreadyEnded: r.alreadyEnded,
        unverified: totalUnverified(r),
        causesFromEvents: causes,
        durationMs: r.finishedAt.getTime() - r.startedAt.getTime(),
      },
      "reported ends checked",
    );
  } catch (err) {
    log.warn(
      { runId, trigger: "event", reported: nudges.length, err: errorMessage(err) },
      "could not check the reported ends; the next pass will",
    );
  }
}

/** The cause each ended call's event shows, settled now (a settled cause is never overwritten). */
async function settleCauses(
  deps: EventCheckDeps,
  ended: readonly { callId: string; callSid: string }[],
  bySid: ReadonlyMap<string, CallNudge>,
): Promise<number> {
  if (deps.diagnoses === null) return 0;
  let settled = 0;
  for (const e of ended) {
    const nudge = bySid.get(e.callSid);
    const found = nudge === undefined ? null : causeFromEvent(nudge);
    if (found === null) continue;
    try {
      await deps.diagnoses.settle(e.callId, found.cause, found.detail);
      deps.onCauseSettled(found.cause);
      settled++;
    } catch (err) {
      deps.tickDeps.logger.warn(
        { callId: e.callId, err: errorMessage(err) },
        "could not record the cause an event showed; Twilio's records will be read instead",
      );
    }
  }
  return settled;
}
