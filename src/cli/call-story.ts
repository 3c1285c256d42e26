/** `report --call`: one call's story in order, from its cause row and its audit rows. */

import { type Endpoint, endpointUrl } from "../diagnosis/call-records.js";
import { EVENT_CAUSE_SOURCE } from "../diagnosis/event-cause.js";
import { isBoundSource } from "../diagnosis/summary.js";
import type { CallAction, CauseRow } from "../model/index.js";
import { ID_WIDTH, terminalId, terminalText } from "./terminal-text.js";

type StoryRequest = {
  endpoint?: Endpoint | null;
  method?: string | null;
  callStatus?: string | null;
  responseCode?: number | null;
  durationMs?: number | null;
  at?: string | null;
};
type StoryDetail = {
  created?: {
    statusCallback?: Endpoint | null;
    statusCallbackEvents?: string[] | null;
    at?: string | null;
  } | null;
  requests?: StoryRequest[];
  reason?: string;
  detail?: string;
  from?: string;
};

const iso = (d: Date | null) => (d === null ? "?" : d.toISOString());

/**
 * The story is for a terminal, and most of it is other people's words: the row's id and statuses are the
 * app's, the URLs, methods and statuses in Twilio's records and the last error are Twilio's. URLs are shown
 * whole (reading the records bounds them), an error up to this many characters (`--json` has it whole).
 */
const ERROR_WIDTH = 200;
const word = (s: string) => terminalText(s, ID_WIDTH);

/** Where the end time came from, named, for the one line that states it. */
function endLine(row: CauseRow, actions: readonly CallAction[]): string {
  const status = word(row.providerStatus ?? "?");
  switch (row.source) {
    case "twilio":
      return `the call ended at Twilio (${status}), Twilio's end time`;
    case "age_bound":
      return `the call ended no later than this (the age bound: no provider knew it; ${status})`;
    case "openai": {
      const at = realtimeBound(row, actions);
      return `the call ended no later than this (OpenAI no longer knew its session${at === null ? "" : `; ${at}`}; ${status})`;
    }
    default:
      return `the call ended (${word(row.source)}; ${status})`;
  }
}

/**
 * A realtime end is its first gone sighting, or OpenAI's session cap when that is earlier (decide.ts): the
 * evidence of the end that wrote this time tells which. null: no such evidence (an audit row pruned, say).
 */
function realtimeBound(row: CauseRow, actions: readonly CallAction[]): string | null {
  const end = actions.findLast(
    (a) => a.outcome === "ended" && a.endedAt?.getTime() === row.providerEndedAt.getTime(),
  );
  const gone = (end?.evidence as { openai?: { kind?: unknown; firstSeenGoneAt?: unknown } } | null)?.openai;
  if (gone?.kind !== "gone" || typeof gone.firstSeenGoneAt !== "string") return null;
  const first = Date.parse(gone.firstSeenGoneAt);
  if (Number.isNaN(first)) return null;
  return row.providerEndedAt.getTime() < first ? "OpenAI's session cap" : "its absence first seen";
}

export function callStory(row: CauseRow, actions: readonly CallAction[]): string[] {
  const d = (typeof row.detail === "object" && row.detail !== null ? row.detail : {}) as StoryDetail;
  const events: [string, string][] = [];
  if (row.startedAt !== null) events.push([iso(row.startedAt), "the call started (the row's start time)"]);
  if (d.created) {
    const cb = d.created.statusCallback ? terminalText(endpointUrl(d.created.statusCallback)) : null;
    events.push([
      word(d.created.at ?? iso(row.startedAt)),
      cb === null
        ? "created through the API without a StatusCallback"
        : `created through the API with StatusCallback ${cb} for ${terminalText(d.created.statusCallbackEvents?.join(", ") ?? "completed")}`,
    ]);
  }
  for (const r of d.requests ?? []) {
    const to = r.endpoint ? terminalText(endpointUrl(r.endpoint)) : "(an unreadable URL)";
    const answer =
      r.responseCode === null || r.responseCode === undefined ? "no answer" : word(String(r.responseCode));
    const took = typeof r.durationMs === "number" ? ` in ${r.durationMs} ms` : "";
    events.push([
      word(r.at ?? "?"),
      `Twilio sent ${word(r.callStatus ?? "a request")} to ${word(r.method ?? "")} ${to}: the app answered ${answer}${took}`,
    ]);
  }
  events.push([iso(row.providerEndedAt), endLine(row, actions)]);
  for (const a of actions) {
    events.push([
      iso(a.decidedAt),
      a.outcome === "ended"
        ? `the daemon ended the row (run ${a.runId}): ${word(a.previousStatus)} → ${word(a.newStatus)}, ended_at ${iso(a.endedAt)} (${word(a.source)}${isBoundSource(a.source) ? ": the latest it can have ended" : ""})`
        : `the daemon's end was ${a.outcome} (run ${a.runId}): ${word(a.previousStatus)} → ${word(a.newStatus)}`,
    ]);
  }
  if (row.diagnosedAt !== null) {
    const why = d.reason ? ` (${word(d.reason)})` : "";
    const from =
      d.from === EVENT_CAUSE_SOURCE ? ", from the Event Streams event (what the app answered)" : "";
    events.push([iso(row.diagnosedAt), `diagnosed: ${word(String(row.cause))}${why}${from}`]);
  } else if (row.source === "twilio") {
    events.push([
      "…",
      `diagnosis pending (${row.attempts} attempts${row.lastError ? `, last: ${terminalText(row.lastError, ERROR_WIDTH)}` : ""})`,
    ]);
  }
  events.sort((a, b) => (a[0] === b[0] ? 0 : a[0] < b[0] ? -1 : 1));
  const cause = word(row.cause ?? "pending");
  return [
    `Call ${terminalId(row.callId)} (${row.callSid === null ? "no Call SID" : terminalId(row.callSid)}): cause ${cause}${row.reverted ? " (end reverted)" : ""}`,
    ...events.map(([at, what]) => `${at}  ${what}`),
  ];
}
