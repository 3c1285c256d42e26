/**
 * The diagnosis step of a pass: for the Twilio ends whose records are due, read the call's Events (and, when
 * they do not already show the end acknowledged, its Notifications) and settle why the end was lost. Ends are
 * written before this runs and never wait for it; it spends at most its own share of the request budget, and
 * goes through the same per-account policy (rate limit, breaker) as every other Twilio request.
 */
import pLimit from "p-limit";
import { type EventsPage, readEventsPage, readNotificationsPage } from "../diagnosis/call-records.js";
import { type CauseDiagnosis, diagnoseCause } from "../diagnosis/cause.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import {
  type CallRecordsAnswer,
  type DiagnosisQueue,
  type DueDiagnosis,
  type ProviderProbes,
  TWILIO_RECORDS_DELAY_MS,
  TWILIO_RECORDS_KEPT_MS,
} from "../model/index.js";

/** Reads that fail this many times settle as `unknown`: the records stay unread, the queue moves on. */
export const MAX_DIAGNOSIS_ATTEMPTS = 6;
/**
 * An empty answer soon after the 15 minutes may be Twilio running late: asked again this many times before
 * `no_records` is believed.
 */
const EMPTY_RECHECKS = 2;
const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 6 * 3600_000;
/** Requests of one call kept for its story: a call has a handful; a page of hundreds is not a story. */
const STORY_REQUESTS = 20;
/** Reads in flight at once: the per-account policy still caps each account. */
const CONCURRENCY = 4;

export interface DiagnosisDeps {
  queue: DiagnosisQueue;
  twilio: NonNullable<ProviderProbes["twilio"]>;
  /** Requests this pass may spend on diagnoses. */
  maxRequests: number;
  clock: () => Date;
  logger: Logger;
  /** Told of each settled cause (the metric); must not throw. */
  onSettled?: (cause: string) => void;
}

export interface DiagnosisTally {
  settled: Record<string, number>;
  retried: number;
  requests: number;
}

export const emptyDiagnosisTally = (): DiagnosisTally => ({ settled: {}, retried: 0, requests: 0 });

/** The wait before the next attempt: doubling from a minute, at most six hours. */
export function diagnosisBackoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts), BACKOFF_MAX_MS);
}

/** The queue's entries due now, read within the request budget. Never throws: a failure waits for the next pass. */
export async function diagnoseDue(deps: DiagnosisDeps, signal?: AbortSignal): Promise<DiagnosisTally> {
  const tally = emptyDiagnosisTally();
  const budget = Math.floor(deps.maxRequests);
  if (budget < 2 || deps.twilio.fetchCallRecords === undefined) return tally;
  let due: DueDiagnosis[];
  try {
    // Each costs at most two requests; most (acknowledged callbacks) cost one.
    due = await deps.queue.due(budget);
  } catch (err) {
    deps.logger.warn(
      { err: errorMessage(err) },
      "could not read the diagnosis queue; the next pass tries again",
    );
    return tally;
  }
  let reserved = 0;
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    due.map((d) =>
      limit(async () => {
        if (signal?.aborted || reserved + 2 > budget) return;
        reserved += 2;
        const spent = await diagnoseOne(d, deps, tally, signal).catch((err: unknown) => {
          deps.logger.warn({ callId: d.callId, err: errorMessage(err) }, "could not record a diagnosis");
          return 2;
        });
        reserved -= 2 - spent;
      }),
    ),
  );
  return tally;
}

/** One entry: settled or put off. Returns the requests it spent. */
async function diagnoseOne(
  d: DueDiagnosis,
  deps: DiagnosisDeps,
  tally: DiagnosisTally,
  signal?: AbortSignal,
): Promise<number> {
  const now = deps.clock();
  const settle = async (diagnosis: CauseDiagnosis, events?: EventsPage) => {
    const { cause, ...detail } = diagnosis;
    // The call's story for `report --call`: the stripped requests Twilio sent, in order (never more than a page).
    const story =
      events?.kind === "read"
        ? { created: events.createRequest, requests: events.appRequests.slice(0, STORY_REQUESTS) }
        : {};
    await deps.queue.settle(d.callId, cause, { ...detail, ...story });
    tally.settled[cause] = (tally.settled[cause] ?? 0) + 1;
    deps.onSettled?.(cause);
  };
  if (now.getTime() - d.providerEndedAt.getTime() > TWILIO_RECORDS_KEPT_MS) {
    await settle({
      cause: "unknown",
      reason: "records_expired",
      detail: "ended longer ago than the 30 days Twilio keeps a call's records",
    });
    return 0;
  }
  const fetch = deps.twilio.fetchCallRecords as NonNullable<typeof deps.twilio.fetchCallRecords>;
  const read = async (kind: "events" | "notifications"): Promise<CallRecordsAnswer> => {
    tally.requests++;
    return fetch(kind, d.callSid, d.accountSid, signal);
  };
  const putOff = async (why: string, dueAt?: Date) => {
    if (d.attempts + 1 >= MAX_DIAGNOSIS_ATTEMPTS) {
      await settle({
        cause: "unknown",
        reason: "events_unreadable",
        detail: `gave up after ${d.attempts + 1} attempts: ${why}`,
      });
      return;
    }
    await deps.queue.retry(d.callId, dueAt ?? new Date(now.getTime() + diagnosisBackoffMs(d.attempts)), why);
    tally.retried++;
  };

  const eventsAnswer = await read("events");
  if (eventsAnswer.kind !== "page") {
    await putOff(`events: ${eventsAnswer.detail}`);
    return 1;
  }
  const events = readEventsPage(eventsAnswer.body);
  const facts = { now, endedAt: d.providerEndedAt, startedAt: d.startedAt, direction: d.direction };
  const first = diagnoseCause({ events, notifications: null }, facts);
  if (first.cause === "callback_acknowledged") {
    await settle(first, events);
    return 1;
  }
  const notificationsAnswer = await read("notifications");
  if (notificationsAnswer.kind !== "page") {
    await putOff(`notifications: ${notificationsAnswer.detail}`);
    return 2;
  }
  const diagnosis = diagnoseCause(
    { events, notifications: readNotificationsPage(notificationsAnswer.body) },
    facts,
  );
  if (diagnosis.cause === "unknown" && diagnosis.reason === "records_not_ready") {
    await deps.queue.retry(
      d.callId,
      new Date(d.providerEndedAt.getTime() + TWILIO_RECORDS_DELAY_MS),
      diagnosis.detail,
    );
    tally.retried++;
  } else if (
    diagnosis.cause === "unknown" &&
    diagnosis.reason === "no_records" &&
    d.attempts < EMPTY_RECHECKS
  ) {
    await putOff(diagnosis.detail);
  } else {
    await settle(diagnosis, events);
  }
  return 2;
}

/** The diagnosis step as a pass runs it: nothing to read without a queue, or without Twilio. */
export function diagnoseAfterPass(
  deps: {
    diagnosis?: Omit<DiagnosisDeps, "twilio" | "clock" | "logger"> | undefined;
    probes: Pick<ProviderProbes, "twilio">;
    clock: () => Date;
    logger: Logger;
  },
  signal?: AbortSignal,
): Promise<DiagnosisTally> {
  const { diagnosis, probes } = deps;
  if (diagnosis === undefined || probes.twilio === null) return Promise.resolve(emptyDiagnosisTally());
  return diagnoseDue({ ...diagnosis, twilio: probes.twilio, clock: deps.clock, logger: deps.logger }, signal);
}
