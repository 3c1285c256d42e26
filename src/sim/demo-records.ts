/**
 * The demo's calls with what Twilio recorded for them, as in the incident: most completed calls had their
 * `completed` callback answered 200 (the app heard of the end and still left the row active), a few had it
 * fail, and a few were created without asking for one.
 */
import type { ScenarioCall } from "./demo-scenario.js";
import { type CallbackCause, type CauseOptions, withCause } from "./twilio-sim-causes.js";

/** Every sixth call's callback failed, every sixth other one was never asked for; the rest were answered. */
function causeOf(position: number): { cause: CallbackCause; opts: CauseOptions } {
  const round = Math.floor(position / 6);
  if (position % 6 === 4) return { cause: "failed", opts: { failure: round % 2 ? "timeout" : "http_500" } };
  if (position % 6 === 5) {
    return {
      cause: "not_requested",
      opts: { notRequested: round % 2 ? "completed_not_subscribed" : "no_status_callback" },
    };
  }
  return { cause: "acknowledged", opts: {} };
}

/**
 * A copy of the scenario whose completed Twilio calls carry events and notifications; nothing else differs,
 * so rows, expectations and what the reconciler prints stay the same.
 */
export function withIncidentRecords(scenario: readonly ScenarioCall[]): ScenarioCall[] {
  let position = 0;
  return scenario.map((c) => {
    if (c.twilio?.status !== "completed" || (c.twilio.endTime === null && c.twilio.startTime === null))
      return c;
    const { cause, opts } = causeOf(position++);
    return { ...c, twilio: withCause(c.twilio, cause, opts) };
  });
}
