/**
 * A Twilio status-callback event (Event Streams) accepted by the sink: a reason to look at one call now,
 * never evidence of its end. The call is ended only if Twilio's Calls API, asked again, says it is over.
 */
export interface CallNudge {
  /** The CloudEvent's id: at-least-once delivery repeats it. */
  eventId: string;
  /** The Call SID the event is about (CA…). */
  callSid: string;
  /** The account the call belongs to (AC…), when the event says. */
  accountSid: string | null;
  /** `CallStatus` as Twilio sent it to the app (`completed`, `busy`, `failed`, `no-answer`, `canceled`, …). */
  callStatus: string;
  /** Twilio's time of the event (the CloudEvent's `time`). */
  eventAt: Date;
  /**
   * What the app answered to that status callback (`response.responseCode`), when the event carries it: the
   * cause of a lost end, known without waiting for the Call Events API.
   */
  appResponseCode: number | null;
  /**
   * The status callback the event copies, as far as it says: where it went (the URL as Twilio sent it, not
   * yet redacted), the method, how long the app took and when Twilio recorded the answer. Null: not given.
   */
  callback?: {
    url: string | null;
    method: string | null;
    durationMs: number | null;
    at: string | null;
  } | null;
}

/**
 * How a nudge received by one replica reaches the replica that writes (the leader). PostgreSQL relays it
 * with NOTIFY; a store without one (SQLite, one replica) has none.
 */
export interface NudgeRelay {
  /**
   * Hands nudges to whichever replica leads. Throws when the database cannot be reached, and
   * NudgeNotRelayedError when some nudge cannot be relayed at all (the others were).
   */
  publish(nudges: readonly CallNudge[]): Promise<void>;
  /**
   * Calls `onNudges` with every batch published from now on, by any replica, until closed. Resolves once
   * listening; rejects when the first connection fails. A connection lost later is opened again (nudges sent
   * meanwhile are lost: the next pass looks at those calls anyway).
   */
  listen(
    onNudges: (nudges: CallNudge[]) => void,
    opts?: NudgeListenOptions,
  ): Promise<{ close(): Promise<void> }>;
}

export interface NudgeListenOptions {
  /**
   * Hears what the listener survived without stopping: a message it could not read (ignored), its
   * connection lost or not yet opened again, an error thrown by `onNudges`. Unheard by default.
   */
  onTrouble?: (err: Error) => void;
}

/**
 * Nudges a relay cannot carry at all (one alone is larger than a message, or its time is not a time): not
 * relayed, the rest of the batch was. The next pass looks at those calls anyway.
 */
export class NudgeNotRelayedError extends Error {
  override name = "NudgeNotRelayedError";
  constructor(readonly dropped: readonly CallNudge[]) {
    super(
      `${dropped.length} nudge(s) could not be relayed (larger than one message, or without a valid time)`,
    );
  }
}
