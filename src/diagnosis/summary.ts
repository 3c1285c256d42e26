/**
 * What `report` says about the zombies ended in a window: pure, from the daemon's own cause rows and one
 * count of the calls the app ended itself.
 */
import type { ZombieRecord } from "../model/index.js";
import { type Endpoint, endpointUrl } from "./call-records.js";
import { EVENT_CAUSE_SOURCE } from "./event-cause.js";

export type { ZombieRecord };

export interface EndpointGroup {
  /** `METHOD scheme://host/path`, or "(no callback URL)". */
  endpoint: string;
  cause: string;
  calls: number;
  /** The status Twilio sent most often, and the answer the app gave most often. */
  callStatus: string | null;
  responseCode: number | null;
  medianDurationMs: number | null;
  errorCode: string | null;
  reason: string | null;
  /** Of `calls`, those whose cause an Event Streams event settled (the rest: Twilio's Call Events). */
  fromEvents: number;
}

export interface CauseSummary {
  since: string;
  until: string;
  zombies: number;
  /**
   * Ends of the window the operator undid with `revert`: the calls were not over (or not ours to end), so they
   * are left out of every other figure.
   */
  reverted: number;
  /** Calls the app ended itself in the window: `lostShare` = zombies / (zombies + these). */
  endedByApp: number;
  lostShare: number | null;
  byCause: Record<string, number>;
  byEndpoint: EndpointGroup[];
  byDirection: Record<string, Record<string, number>>;
  byDay: Record<string, number>;
  /** End time written → ended here, in seconds (at least, for the ends that are only bounds). */
  lifetimeSeconds: { median: number; p95: number; max: number } | null;
  /**
   * The end times written: how long the calls lasted by them, against what a cleanup stamping the time it found
   * them would have recorded (seconds). The daemon writes a status and an end time, never a duration: the name
   * stays for the JSON's readers.
   */
  durations: { calls: number; trueSeconds: number; ageBasedSeconds: number } | null;
  /**
   * Ends whose time is only the latest the call can have ended (OpenAI's absence, the age bound): Twilio alone
   * gives a call's end time.
   */
  boundEnds: number;
  diagnosis: string[];
}

/** The cause a report shows: a queued Twilio diagnosis is `pending`. */
export const causeOf = (z: ZombieRecord): string => z.cause ?? "pending";

const count = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function mostCommon<T>(values: readonly T[]): T | null {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | null = null;
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}

type Detail = {
  endpoint?: Endpoint | null;
  statusCallback?: Endpoint | null;
  method?: string | null;
  statusCallbackMethod?: string | null;
  callStatus?: string | null;
  responseCode?: number | null;
  durationMs?: number | null;
  errorCode?: string | null;
  reason?: string | null;
  /** Where the cause came from: EVENT_CAUSE_SOURCE, or absent (Twilio's Call Events and Notifications). */
  from?: string;
};

const detailOf = (z: ZombieRecord): Detail =>
  typeof z.detail === "object" && z.detail !== null ? (z.detail as Detail) : {};

function endpointOf(d: Detail): string {
  const e = d.endpoint ?? d.statusCallback ?? null;
  if (e === null || typeof e !== "object") return "(no callback URL)";
  const method = d.method ?? d.statusCallbackMethod ?? null;
  return `${method === null ? "" : `${method} `}${endpointUrl(e)}`;
}

/** Ties are told in the order of the fix's certainty: a handler that acknowledges first, unknown last. */
const CAUSE_ORDER = ["callback_acknowledged", "callback_failed", "callback_not_requested", "unknown"];
const rank = (cause: string) => CAUSE_ORDER.indexOf(cause);

function endpointGroups(zombies: readonly ZombieRecord[]): EndpointGroup[] {
  const groups = new Map<string, ZombieRecord[]>();
  for (const z of zombies) {
    if (z.source !== "twilio" || z.cause === null) continue;
    // Not requested or unknown for different reasons are different things to fix.
    const reason =
      z.cause === "callback_not_requested" || z.cause === "unknown" ? (detailOf(z).reason ?? "") : "";
    const key = `${z.cause}\u0000${endpointOf(detailOf(z))}\u0000${reason}`;
    groups.set(key, [...(groups.get(key) ?? []), z]);
  }
  return [...groups.entries()]
    .map(([key, members]) => {
      const details = members.map(detailOf);
      const durations = details
        .map((d) => d.durationMs)
        .filter((v): v is number => typeof v === "number")
        .sort((a, b) => a - b);
      const [cause, endpoint] = key.split("\u0000") as [string, string, string];
      return {
        endpoint,
        cause,
        calls: members.length,
        callStatus: mostCommon(details.map((d) => d.callStatus ?? null)),
        responseCode: mostCommon(details.map((d) => d.responseCode ?? null)),
        medianDurationMs: durations.length > 0 ? quantile(durations, 0.5) : null,
        errorCode: mostCommon(details.map((d) => d.errorCode ?? null)),
        reason: mostCommon(details.map((d) => d.reason ?? null)),
        fromEvents: details.filter((d) => d.from === EVENT_CAUSE_SOURCE).length,
      };
    })
    .sort(
      (a, b) => b.calls - a.calls || rank(a.cause) - rank(b.cause) || a.endpoint.localeCompare(b.endpoint),
    );
}

const REASONS: Record<string, string> = {
  no_status_callback_url: "they were created without a StatusCallback",
  completed_not_in_events: "their StatusCallbackEvent leaves out completed",
  no_status_callback_sent:
    "no status callback is configured for them (check the number's Call Status Changes webhook)",
};

/** One sentence an on-call engineer acts on, per group of zombies with one cause at one endpoint. */
export function sentence(g: EndpointGroup, twilioZombies: number): string {
  const told =
    g.fromEvents === 0 ? "" : ` (${g.fromEvents === g.calls ? "all" : g.fromEvents} told by Event Streams)`;
  const of = `${g.calls} of ${twilioZombies} calls${told}`;
  const took = g.medianDurationMs === null ? "" : ` in about ${g.medianDurationMs} ms`;
  switch (g.cause) {
    case "callback_acknowledged":
      return `Twilio delivered \`${g.callStatus ?? "completed"}\` for ${of} to ${g.endpoint} and got ${g.responseCode ?? "2xx"}${took}, but the rows stayed active: that handler acknowledges the end without ending the call.`;
    case "callback_failed": {
      const answer =
        g.responseCode !== null ? `got ${g.responseCode}` : "got no answer (timeout or connection error)";
      const code = g.errorCode === null ? "" : ` (Twilio error ${g.errorCode})`;
      return `Twilio sent \`${g.callStatus ?? "completed"}\` for ${of} to ${g.endpoint} and ${answer}${code}: that endpoint fails, so the end never reached the app.`;
    }
    case "callback_not_requested":
      return `Twilio sent no end for ${of}: ${REASONS[g.reason ?? ""] ?? "no terminal status callback was asked for"}${g.endpoint === "(no callback URL)" ? "" : ` (callback ${g.endpoint})`}.`;
    default:
      return `${of}: the cause is unknown (${g.reason ?? "records unreadable"}).`;
  }
}

/**
 * Only Twilio knows when a call ended. OpenAI's absence and the age bound give the latest time it can have
 * ended, and the daemon writes that: a bound, which a report must not pass off as the end.
 */
export const isBoundSource = (source: string): boolean => source === "openai" || source === "age_bound";

export function summarise(
  records: readonly (ZombieRecord & { reverted?: boolean })[],
  window: { since: Date; until: Date; endedByApp: number },
): CauseSummary {
  const zombies = records.filter((z) => z.reverted !== true);
  const byCause: Record<string, number> = {};
  const byDirection: Record<string, Record<string, number>> = {};
  const byDay: Record<string, number> = {};
  const lifetimes: number[] = [];
  let trueSeconds = 0;
  let ageBasedSeconds = 0;
  let timed = 0;
  for (const z of zombies) {
    count(byCause, causeOf(z));
    const direction = z.direction ?? (z.source === "twilio" ? "unknown" : z.source);
    byDirection[direction] ??= {};
    count(byDirection[direction], z.providerStatus ?? "unknown");
    count(byDay, z.endedHereAt.toISOString().slice(0, 10));
    lifetimes.push(Math.max(0, (z.endedHereAt.getTime() - z.providerEndedAt.getTime()) / 1000));
    if (z.startedAt !== null) {
      timed++;
      trueSeconds += Math.max(0, (z.providerEndedAt.getTime() - z.startedAt.getTime()) / 1000);
      ageBasedSeconds += Math.max(0, (z.endedHereAt.getTime() - z.startedAt.getTime()) / 1000);
    }
  }
  lifetimes.sort((a, b) => a - b);
  const groups = endpointGroups(zombies);
  const twilioZombies = zombies.filter((z) => z.source === "twilio").length;
  const diagnosis = groups.map((g) => sentence(g, twilioZombies));
  const pending = byCause.pending ?? 0;
  if (pending > 0)
    diagnosis.push(
      `${pending} Twilio ends are still waiting for their diagnosis (Twilio keeps a call's records readable 15 minutes after it ends).`,
    );
  for (const source of ["age_bound", "openai"]) {
    const n = byCause[source] ?? 0;
    if (n > 0)
      diagnosis.push(
        source === "age_bound"
          ? `${n} calls were ended on the age bound: no provider knew them, so nothing says why their end was lost.`
          : `${n} realtime-only calls were ended on OpenAI's word: OpenAI keeps no record of why their end was lost.`,
      );
  }
  const total = zombies.length + window.endedByApp;
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    zombies: zombies.length,
    reverted: records.length - zombies.length,
    endedByApp: window.endedByApp,
    lostShare: total === 0 ? null : zombies.length / total,
    byCause,
    byEndpoint: groups,
    byDirection,
    byDay,
    lifetimeSeconds:
      lifetimes.length === 0
        ? null
        : {
            median: quantile(lifetimes, 0.5),
            p95: quantile(lifetimes, 0.95),
            max: lifetimes.at(-1) as number,
          },
    durations: timed === 0 ? null : { calls: timed, trueSeconds, ageBasedSeconds },
    boundEnds: zombies.filter((z) => isBoundSource(z.source)).length,
    diagnosis,
  };
}
