import type { AppCall } from "../dev/app-table.js";
import { buildDemoScenario, fakeCallSid, type ScenarioCall } from "./demo-scenario.js";

/** What the app's table says instead of the daemon's statuses (its STATUS_MAP: see APP_TABLE_SETTINGS). */
const APP_WORDS: Readonly<Record<string, string>> = {
  canceled: "cancelled",
  busy: "failed",
  "no-answer": "failed",
};

/** A row of the app's table, and what a correct reconciler must write to it. */
export interface AppScenarioCall extends ScenarioCall {
  app: AppCall;
  /** For ends: the duration the row must get (Twilio's own, else end − start). */
  expectedDuration?: number;
}

/**
 * The demo's incident on the app's own table: every row has exactly one provider's id in its one id column
 * (outbound calls a Call SID, inbound ones a realtime id), statuses in the app's words, text times, and the
 * app's own duration on the rows it ended itself. Rows no provider could know (no id at all) do not exist
 * in that table, so they are left out.
 */
export function buildAppTableScenario(now: Date): AppScenarioCall[] {
  const calls = buildDemoScenario(now).flatMap((c): AppScenarioCall[] => {
    const callId = c.row.twilioSid ?? c.row.openaiId;
    if (callId === null) return [];
    const outbound = c.row.twilioSid !== null;
    const { realtime: _notAsked, ...rest } = c;
    const expectedStatus =
      c.expectedStatus === undefined ? undefined : (APP_WORDS[c.expectedStatus] ?? c.expectedStatus);
    return [
      {
        ...(outbound ? rest : c),
        ...(expectedStatus === undefined ? {} : { expectedStatus }),
        ...expectedLength(c),
        app: {
          callId,
          callType: outbound ? "outbound" : "inbound",
          status: APP_WORDS[c.row.status] ?? c.row.status,
          startedAt: c.row.startedAt,
          endedAt: c.row.endedAt,
          durationSeconds:
            c.row.endedAt === null ? null : (c.row.endedAt.getTime() - c.row.startedAt.getTime()) / 1000,
        },
      },
    ];
  });
  // Calls the app ended itself with its own words: never listed, never touched.
  for (const [status, ageSeconds, lengthSeconds] of [
    ["cancelled", 9000, 0],
    ["failed", 8500, 0],
    ["timeout", 90_000, 3600],
  ] as const) {
    const startedAt = new Date(Math.floor(now.getTime() / 1000) * 1000 - ageSeconds * 1000);
    const endedAt = new Date(startedAt.getTime() + lengthSeconds * 1000);
    const callId = fakeCallSid(`ended-by-app-${status}`);
    calls.push({
      kind: `ended by the app (${status})`,
      row: { id: callId, twilioSid: callId, openaiId: null, status, startedAt, endedAt },
      twilio: null,
      expect: "not_listed",
      app: { callId, callType: "outbound", status, startedAt, endedAt, durationSeconds: lengthSeconds },
    });
  }
  return calls;
}

/** Twilio's own duration of an end from Twilio, else the end − start the daemon writes. */
function expectedLength(c: ScenarioCall): { expectedDuration?: number } {
  if (c.expectedEndedAt === undefined) return {};
  const twilio = c.twilio?.duration;
  if (typeof twilio === "string" && /^\d+$/.test(twilio)) return { expectedDuration: Number(twilio) };
  return { expectedDuration: (c.expectedEndedAt.getTime() - c.row.startedAt.getTime()) / 1000 };
}
