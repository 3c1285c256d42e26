import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { WriterLease } from "../model/index.js";

/** This replica's hold on the lease while it reconciles: "leadership lost" is an AbortSignal. */
export interface Leadership {
  /** Aborted once this replica can no longer count on being the leader; never un-aborted. */
  readonly signal: AbortSignal;
  /** One heartbeat (the timer calls it too): true while the lease is held. */
  beat(): Promise<boolean>;
  /** Stops the heartbeat; the lease itself is kept (the next interval renews or releases it). */
  stop(): void;
}

/**
 * Holds the lease during a pass. Six times a lease a heartbeat renews it once less than half is left (one
 * renewal at a time), so a renewal starts with at least a third of the lease left. A renewal that fails or
 * finds the lease taken aborts the signal, and so does one still unanswered when only a sixth is left: the
 * pass stops writing before the lease can have passed to another replica. A pass can outlast the lease
 * (slow providers, many rows), so a healthy leader keeps it for as long as the pass runs.
 */
export function holdLeadership(
  lease: WriterLease,
  ttlSeconds: number,
  logger: Logger,
  opts: {
    heartbeat?: boolean;
    /** True once the pass has stopped moving: the lease is then no longer renewed, so a stand-by takes over. */
    stalled?: () => boolean;
  } = {},
): Leadership {
  const ttlMs = ttlSeconds * 1000;
  const lost = new AbortController();
  const lose = (why: string) => {
    if (lost.signal.aborted) return;
    logger.warn({ holder: lease.holder, why }, "leader lease not renewed: this pass stops writing");
    lost.abort(new Error(why));
  };

  let deadline: NodeJS.Timeout | undefined;
  /**
   * The latest moment at which the lease may still be counted on. It follows every renewal, whoever made it:
   * the loop's own lease check renews the same lease during a pass asked for over HTTP, and the heartbeat then
   * skips its turn, so when it fires it looks at the lease as it is now before giving up on it.
   */
  const armDeadline = () => {
    clearTimeout(deadline);
    deadline = setTimeout(
      () => {
        if (lease.remainingMs() > ttlMs / 6) armDeadline();
        else lose("the lease ran short while its renewal went unanswered");
      },
      lease.remainingMs() - ttlMs / 6,
    );
    deadline.unref();
  };

  let renewing: Promise<boolean> | null = null;
  const renew = async (): Promise<boolean> => {
    try {
      if (await lease.acquireOrRenew()) {
        armDeadline();
        return true;
      }
      lose("the lease was taken by another replica");
    } catch (err) {
      lease.drop();
      lose(`could not renew the lease: ${errorMessage(err)}`);
    }
    return false;
  };

  const beat = async (): Promise<boolean> => {
    if (lost.signal.aborted) return false;
    if (lease.remainingMs() > ttlMs / 2) return true;
    if (opts.stalled?.() === true) {
      lose("the pass has stopped making progress; the lease is left to expire");
      return false;
    }
    renewing ??= renew().finally(() => {
      renewing = null;
    });
    return renewing;
  };

  armDeadline();
  const timer = opts.heartbeat === false ? undefined : setInterval(() => void beat(), ttlMs / 6);
  return {
    signal: lost.signal,
    beat,
    stop() {
      clearInterval(timer);
      clearTimeout(deadline);
    },
  };
}
