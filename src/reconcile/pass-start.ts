import type { PassDeps, PassOptions, PassRun } from "./pass-deps.js";
import { newPassResult, type PassResult } from "./pass-result.js";

/** Beyond this, a host clock is worth an operator's look (NTP broken, a VM resumed from a snapshot). */
const CLOCK_SKEW_WARN_MS = 5_000;

/**
 * What every step of one pass works with: a logger that names the pass (each line carries its `runId`), the
 * pass's clock, and the session cap as far as it is still trusted; and the pass's empty result.
 *
 * The pass's clock is the database's `now()`, read once, carried forward on the monotonic clock, so that the
 * minimum age, the age bound, the future-end check and the sightings never depend on the host's wall clock.
 * How far the host's clock is ahead (the query's round trip included) is measured, and said when large.
 */
export async function startPass(
  passDeps: PassDeps,
  opts: PassOptions,
): Promise<{ deps: PassRun; result: PassResult }> {
  const logger = passDeps.logger.child({ runId: opts.runId });
  const hostBefore = Date.now();
  const database = (await passDeps.store.now()).getTime();
  const t0 = performance.now();
  const skewMs = Math.round((hostBefore + Date.now()) / 2 - database);
  if (Math.abs(skewMs) > CLOCK_SKEW_WARN_MS)
    logger.warn(
      { clockSkewSeconds: skewMs / 1000 },
      "this host's clock disagrees with the database's; decisions use the database's, but check NTP",
    );
  const deps: PassRun = {
    ...passDeps,
    logger,
    clock: () => new Date(database + (performance.now() - t0)),
    // A cap disproved by an earlier pass bounds nothing in this one (see session-cap.ts).
    policy: { ...passDeps.policy, sessionCapTrusted: passDeps.realtimeProbe.cap.disproof === null },
  };
  const result = { ...newPassResult(opts.runId, opts.dryRun, deps.clock()), clockSkewMs: skewMs };
  return { deps, result };
}
