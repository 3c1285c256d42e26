import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";

/** What the handler listens on: the process, or an emitter standing in for it in a test. */
export interface ProcessEvents {
  on(event: "unhandledRejection" | "uncaughtException", listener: (err: unknown) => void): unknown;
  off(event: "unhandledRejection" | "uncaughtException", listener: (err: unknown) => void): unknown;
}

/**
 * The daemon's last resort for an error nothing handled (a bug): Node's default would exit at once with a raw
 * stack on stderr, the lease held until it expires and the ends in flight cut off. Instead: one log line with
 * the error and its stack, then the daemon's own shutdown (no new calls, ends in flight commit or roll back,
 * the lease released), after which the caller exits non-zero so that the orchestrator restarts it.
 * Returns whether it fired, and a way to remove it.
 */
export function shutDownOnUnexpectedError(
  events: ProcessEvents,
  logger: Logger,
  shutDown: () => void,
): { fired(): boolean; remove(): void } {
  let fired = false;
  const onError = (err: unknown) => {
    const stack = err instanceof Error ? err.stack : undefined;
    logger.fatal(
      { err: errorMessage(err), ...(stack === undefined ? {} : { stack }), alreadyShuttingDown: fired },
      "unexpected error (a bug in call-reconciler): shutting down cleanly, then exiting 1",
    );
    if (fired) return;
    fired = true;
    shutDown();
  };
  events.on("unhandledRejection", onError);
  events.on("uncaughtException", onError);
  return {
    fired: () => fired,
    remove() {
      events.off("unhandledRejection", onError);
      events.off("uncaughtException", onError);
    },
  };
}
