/**
 * The doctor's Event Streams lines, when EVENTS_URL is set: a sink posts to it, it is active, it is subscribed
 * to call ends, and the phone numbers whose calls never send a status callback (Event Streams copies status
 * callbacks, so for those calls it has nothing to send). Event Streams only hastens what a pass does anyway:
 * nothing here fails the doctor, it warns.
 */
import type { TwilioCredentials } from "../config/config.js";
import {
  CALL_END_EVENT_TYPES,
  chosenSink,
  createEventStreams,
  type EventStreamsState,
} from "../providers/twilio-event-streams.js";
import type { NumbersAnswer } from "../providers/twilio-numbers.js";
import type { Check } from "./doctor-check.js";
import { eventsUrlProblem } from "./events-url.js";

const SETUP = "call-reconciler events setup";

export interface EventsDoctorOptions {
  credentials: TwilioCredentials;
  baseUrl: string;
  timeoutMs: number;
  keepAlive: boolean;
}

/** The lines about one state of the account's Event Streams: pure. */
export function eventStreamsLines(url: string, state: EventStreamsState): Check[] {
  const sink = chosenSink(state.sinks);
  if (sink === null) {
    const other =
      state.sinks.length > 0 ? ` (${state.sinks.length} at it send GET; the endpoint takes POST)` : "";
    return [
      {
        name: "event sink",
        state: "warn",
        detail: `no Event Streams sink of ${state.account} posts to ${url}${other}: ${SETUP}`,
      },
    ];
  }
  const checks: Check[] = [{ name: "event sink", state: "pass", detail: `sink ${sink.sid} posts to ${url}` }];
  checks.push(
    sink.status === "active"
      ? { name: "event sink status", state: "pass", detail: `sink ${sink.sid} is active` }
      : {
          name: "event sink status",
          state: "warn",
          detail:
            sink.status === "failed"
              ? `sink ${sink.sid} is failed: Twilio could not deliver to ${url} (its Debugger names why); until it is active no event comes`
              : `sink ${sink.sid} is ${sink.status}, not active: no event comes until it is`,
        },
  );
  const carried = new Set(
    state.subscriptions.filter((s) => s.sinkSid === sink.sid).flatMap((s) => s.types.map((t) => t.type)),
  );
  const missing = CALL_END_EVENT_TYPES.filter((t) => !carried.has(t));
  checks.push(
    missing.length === 0
      ? {
          name: "event subscription",
          state: "pass",
          detail: `sink ${sink.sid} is subscribed to ${CALL_END_EVENT_TYPES.join(", ")}`,
        }
      : {
          name: "event subscription",
          state: "warn",
          detail: `sink ${sink.sid} is not subscribed to ${missing.join(", ")}, so no call end reaches it: ${SETUP}`,
        },
  );
  return checks;
}

/** The numbers whose calls Event Streams cannot report: they ask for no status callback. */
export function eventCoverageLine(numbers: NumbersAnswer | null): Check[] {
  if (numbers === null || numbers.kind === "error" || numbers.withoutCallback.length === 0) return [];
  const scope = numbers.partial ? `the first ${numbers.total}` : `${numbers.total}`;
  return [
    {
      name: "event coverage",
      state: "warn",
      detail: `${numbers.withoutCallback.length} of ${scope} phone numbers request no status callback: Twilio sends no event for their calls, so Event Streams cannot hasten their ends; the passes still find them`,
    },
  ];
}

export async function eventStreamsChecks(
  setting: string,
  numbers: NumbersAnswer | null,
  opts: EventsDoctorOptions,
): Promise<Check[]> {
  const problem = eventsUrlProblem("EVENTS_URL", setting);
  if (problem !== null) return [{ name: "event sink", state: "warn", detail: problem }];
  const url = setting;
  const state = await createEventStreams(opts).inspect(url);
  if (state.kind === "error") {
    const access = state.reason === "auth_failed" || state.reason === "forbidden";
    return [
      {
        name: "event sink",
        state: "warn",
        detail: `could not read the account's Event Streams (${state.detail})${access ? ": the credentials may lack access to the Events API" : ""}`,
      },
      ...eventCoverageLine(numbers),
    ];
  }
  return [...eventStreamsLines(url, state), ...eventCoverageLine(numbers)];
}
