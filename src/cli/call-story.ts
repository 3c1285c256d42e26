/** `report --call`: one call's story in order, from its cause row and its audit rows. */
import type { CallAction, CauseRow } from "../db/causes.js";
import { type Endpoint, endpointUrl } from "../diagnosis/call-records.js";

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
};

const iso = (d: Date | null) => (d === null ? "?" : d.toISOString());

export function callStory(row: CauseRow, actions: readonly CallAction[]): string[] {
  const d = (typeof row.detail === "object" && row.detail !== null ? row.detail : {}) as StoryDetail;
  const events: [string, string][] = [];
  if (row.startedAt !== null) events.push([iso(row.startedAt), "the call started (the row's start time)"]);
  if (d.created) {
    const cb = d.created.statusCallback ? endpointUrl(d.created.statusCallback) : null;
    events.push([
      d.created.at ?? iso(row.startedAt),
      cb === null
        ? "created through the API without a StatusCallback"
        : `created through the API with StatusCallback ${cb} for ${d.created.statusCallbackEvents?.join(", ") ?? "completed"}`,
    ]);
  }
  for (const r of d.requests ?? []) {
    const to = r.endpoint ? endpointUrl(r.endpoint) : "(an unreadable URL)";
    const answer =
      r.responseCode === null || r.responseCode === undefined ? "no answer" : String(r.responseCode);
    const took = typeof r.durationMs === "number" ? ` in ${r.durationMs} ms` : "";
    events.push([
      r.at ?? "?",
      `Twilio sent ${r.callStatus ?? "a request"} to ${r.method ?? ""} ${to}: the app answered ${answer}${took}`,
    ]);
  }
  events.push([iso(row.providerEndedAt), `the call ended at Twilio (${row.providerStatus ?? "?"})`]);
  for (const a of actions) {
    events.push([
      iso(a.decidedAt),
      a.outcome === "ended"
        ? `the daemon ended the row (run ${a.runId}): ${a.previousStatus} → ${a.newStatus}, ended_at ${iso(a.endedAt)} (${a.source})`
        : `the daemon's end was ${a.outcome} (run ${a.runId}): ${a.previousStatus} → ${a.newStatus}`,
    ]);
  }
  if (row.diagnosedAt !== null) {
    const why = d.reason ? ` (${d.reason})` : "";
    events.push([iso(row.diagnosedAt), `diagnosed: ${row.cause}${why}`]);
  } else if (row.source === "twilio") {
    events.push([
      "…",
      `diagnosis pending (${row.attempts} attempts${row.lastError ? `, last: ${row.lastError}` : ""})`,
    ]);
  }
  events.sort((a, b) => (a[0] === b[0] ? 0 : a[0] < b[0] ? -1 : 1));
  const cause = row.cause ?? "pending";
  return [
    `Call ${row.callId} (${row.callSid ?? "no Call SID"}): cause ${cause}`,
    ...events.map(([at, what]) => `${at}  ${what}`),
  ];
}
