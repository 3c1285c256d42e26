import type { LoopState } from "../daemon/loop.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { Readiness } from "../server/http.js";

export interface ReadinessDeps {
  /** Rejects when the database does not answer. */
  ping: () => Promise<unknown>;
  state: Pick<LoopState, "leader" | "lastTickOkAt">;
  intervalMs: number;
  logger: Logger;
}

/**
 * Ready: the database answers and the loop did its job (a pass, or a lease check) within 3 intervals.
 * /readyz is open to anyone who reaches the port and the driver's errors name the database's host and port, so
 * the answer only says "database unreachable"; the error goes to the log, once until it changes.
 */
export function daemonReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  let lastError: string | null = null;
  return async () => {
    try {
      await deps.ping();
      lastError = null;
    } catch (err) {
      const detail = errorMessage(err);
      if (detail !== lastError) deps.logger.warn({ err: detail }, "not ready: the database does not answer");
      lastError = detail;
      return { ready: false, reason: "database unreachable" };
    }
    const { state, intervalMs } = deps;
    if (performance.now() - state.lastTickOkAt > 3 * intervalMs) {
      return {
        ready: false,
        reason: `no completed ${state.leader ? "pass" : "lease check"} for 3 intervals`,
      };
    }
    return { ready: true, reason: state.leader ? "ready (leader)" : "ready (standing by)" };
  };
}
