import type { Logger } from "../log.js";

/**
 * A row's `started_at` is the app's, usually taken while the call rang, before OpenAI accepted it, and the two
 * clocks differ a little: a session is past OpenAI's cap only this long after `started_at` + the cap.
 */
export const SESSION_CAP_GRACE_MS = 5 * 60 * 1000;

/** Whether a realtime call started at `startedAt` is, at `at`, older than any OpenAI session can last. */
export function pastSessionCap(startedAt: Date, at: Date, capSeconds: number): boolean {
  return at.getTime() >= startedAt.getTime() + capSeconds * 1000 + SESSION_CAP_GRACE_MS;
}

/** The realtime call that outlived the cap: the proof that OPENAI_MAX_SESSION_SECONDS is wrong. */
export interface CapDisproof {
  callId: string;
  seenAt: Date;
  ageSeconds: number;
}

/**
 * Whether OpenAI's session cap still holds, for the life of the process. One live sighting past it says the
 * setting is wrong (or OpenAI raised its cap): from then on nothing is ended, nor any end time bounded, on it.
 * It is not forgotten by itself: the operator corrects OPENAI_MAX_SESSION_SECONDS and restarts.
 */
export class SessionCapCheck {
  private found: CapDisproof | null = null;

  constructor(
    private readonly logger: Logger,
    /** Told once, when the cap is first disproved (the metric); must not throw. */
    private readonly onDisproved: () => void = () => {},
  ) {}

  get disproof(): CapDisproof | null {
    return this.found;
  }

  /** A realtime call seen live at `seenAt`, past the cap. */
  sawLivePastCap(callId: string, startedAt: Date, seenAt: Date, capSeconds: number): void {
    if (this.found !== null) return;
    const ageSeconds = Math.round((seenAt.getTime() - startedAt.getTime()) / 1000);
    this.found = { callId, seenAt, ageSeconds };
    this.onDisproved();
    this.logger.warn(
      { realtimeCallId: callId, ageSeconds, openaiMaxSessionSeconds: capSeconds },
      `a realtime call is live ${ageSeconds}s after it started, past OPENAI_MAX_SESSION_SECONDS=${capSeconds}: ` +
        "the cap is wrong, so no realtime call is ended on it any more; raise the setting and restart",
    );
  }
}
