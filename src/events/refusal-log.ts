import type { Logger } from "../log.js";

export interface RefusalLog {
  /** One warn line for this refusal, unless one for the same reason was written less than `everyMs` ago. */
  refused(reason: string, remoteAddress: string | undefined, error?: string): void;
}

/** A refused line per reason and per minute is enough to see who is knocking and why. */
export const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * Refusals logged without letting a scanner, or Twilio retrying a batch it cannot get through, fill the logs:
 * the first of each reason is written, then at most one a window, saying how many went unwritten since.
 * Only the reason, the peer's address and an error message are written: never the body nor a header.
 */
export function refusalLog(logger: Logger, now: () => Date, everyMs = REFUSAL_LOG_EVERY_MS): RefusalLog {
  const last = new Map<string, { at: number; unwritten: number }>();
  return {
    refused(reason, remoteAddress, error) {
      const at = now().getTime();
      const previous = last.get(reason);
      if (previous !== undefined && at - previous.at < everyMs) {
        previous.unwritten += 1;
        return;
      }
      last.set(reason, { at, unwritten: 0 });
      logger.warn(
        {
          reason,
          remoteAddress: remoteAddress ?? null,
          ...(error === undefined ? {} : { error }),
          ...(previous === undefined || previous.unwritten === 0 ? {} : { alsoRefused: previous.unwritten }),
        },
        "Event Streams sink: delivery refused",
      );
    },
  };
}
