import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { CallNudge, NudgeRelay } from "../model/index.js";
import type { NudgeQueue } from "./nudge-queue.js";
import type { LoopState } from "./tick.js";

/** What the sink does with the calls a batch reported: queued here, relayed to the leader, or refused. */
export type Intake = (nudges: CallNudge[]) => Promise<"accepted" | "unavailable">;

/**
 * One writer whichever replica Twilio reaches: the leader queues the calls for its own check; a stand-by
 * relays them to the leader through the database (PostgreSQL's NOTIFY); a stand-by without a relay (SQLite
 * runs one replica) answers 503, and Twilio delivers the batch again later, as it does after any failure.
 */
export function eventIntake(deps: {
  state: LoopState;
  queue: NudgeQueue;
  relay: NudgeRelay | null;
  logger: Logger;
}): Intake {
  return async (nudges) => {
    if (nudges.length === 0) return "accepted";
    if (deps.state.leader) {
      deps.queue.add(nudges);
      return "accepted";
    }
    if (deps.relay === null) return "unavailable";
    try {
      await deps.relay.publish(nudges);
      return "accepted";
    } catch (err) {
      deps.logger.warn(
        { err: errorMessage(err) },
        "could not relay reported ends to the leader; Twilio retries",
      );
      return "unavailable";
    }
  };
}

/** On every replica: the calls a stand-by relayed are queued by the one that leads, ignored by the others. */
export function acceptRelayed(state: LoopState, queue: NudgeQueue): (nudges: CallNudge[]) => void {
  return (nudges) => {
    if (state.leader) queue.add(nudges);
  };
}
