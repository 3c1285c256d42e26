import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { CallNudge, NudgeRelay } from "../model/index.js";

/** How long a replica waits before it tries again to listen for relayed ends (its database was unreachable). */
const LISTEN_RETRY_MS = 5_000;

/**
 * The relay's listener. The daemon starts before its database answers: until a LISTEN succeeds it is tried again
 * every few seconds, in the background, and what stand-bys relay meanwhile is found by the passes instead.
 */
export function listenForRelayed(
  relay: NudgeRelay,
  onNudges: (nudges: CallNudge[]) => void,
  logger: Logger,
  retryMs = LISTEN_RETRY_MS,
): { close(): Promise<void> } {
  const stop = new AbortController();
  const listening = (async () => {
    for (let attempt = 1; !stop.signal.aborted; attempt++) {
      try {
        const l = await relay.listen(onNudges);
        if (attempt > 1) logger.info("listening for the ends stand-by replicas relay");
        return l;
      } catch (err) {
        if (attempt === 1)
          logger.warn(
            { err: errorMessage(err) },
            "cannot listen for the ends stand-by replicas relay yet; trying again, the passes end those calls meanwhile",
          );
        await sleep(retryMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    }
    return null;
  })();
  return {
    close: async () => {
      stop.abort();
      await (await listening)?.close();
    },
  };
}
