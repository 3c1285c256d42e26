import type { CallAction, CauseRow } from "../../src/model/index.js";

/** Fixtures for the report's renderers: cause rows and audit actions as the causes store reads them. */
export const T0 = new Date("2026-12-01T00:00:00Z");
export const at = (s: number) => new Date(T0.getTime() + s * 1000);
export const HOOK = { scheme: "https", host: "api.example.org", path: "/twilio/status" };
export const RUN = "00000000-0000-4000-8000-000000000001";

/** A Twilio zombie ended 8 minutes after its true end, its acknowledged callback diagnosed. */
export function causeRow(i: number, over: Partial<CauseRow> = {}): CauseRow {
  return {
    callId: `c${i}`,
    source: "twilio",
    direction: "outbound-api",
    providerStatus: "completed",
    startedAt: at(0),
    providerEndedAt: at(120),
    endedHereAt: at(600),
    cause: "callback_acknowledged",
    detail: { endpoint: HOOK, method: "POST", callStatus: "completed", responseCode: 200, durationMs: 80 },
    callSid: `CA${i}`,
    accountSid: null,
    attempts: 1,
    lastError: null,
    diagnosedAt: at(1500),
    reverted: false,
    ...over,
  };
}

/** The audit row of that end. */
export const endedAction = (over: Partial<CallAction> = {}): CallAction => ({
  runId: RUN,
  previousStatus: "active",
  newStatus: "completed",
  endedAt: at(120),
  source: "twilio",
  decidedAt: at(600),
  outcome: "ended",
  ...over,
});
