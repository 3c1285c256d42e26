import type { Lease } from "../db/lease.js";
import type { Logger } from "../log.js";

/**
 * Decides, before every write, whether this replica may still write. While more than half the lease is left,
 * yes at once; below that it renews first (one renewal at a time), and a renewal that fails or finds the
 * lease taken means no: the pass stops writing long before the lease can have passed to another replica.
 */
export function writeGuard(lease: Lease, ttlSeconds: number, logger: Logger): () => Promise<boolean> {
  let renewing: Promise<boolean> | null = null;
  const renew = async (): Promise<boolean> => {
    try {
      const held = await lease.acquireOrRenew();
      if (!held) logger.warn({ holder: lease.holder }, "leader lease was taken by another replica");
      return held;
    } catch (err) {
      lease.drop();
      logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        "could not renew the leader lease",
      );
      return false;
    }
  };
  return async () => {
    if (lease.remainingMs() > (ttlSeconds * 1000) / 2) return true;
    renewing ??= renew().finally(() => {
      renewing = null;
    });
    return renewing;
  };
}
