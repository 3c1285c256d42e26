/**
 * One attempt of a provider call, as run inside the breaker by createProviderPolicy's retry loop: concurrency
 * slot → rate limiter → timeout → attempt. See resilience.ts for the whole composition.
 */
import { setImmediate } from "node:timers/promises";
import { BrokenCircuitError, CircuitState, TimeoutStrategy, timeout } from "cockatiel";
import type { ProviderBreaker } from "./breaker.js";
import type { RateLimiter } from "./rate-limiter.js";

/** A 429, thrown past the breaker so that it counts neither as a failure nor as a success. */
export class BackPressure<R> {
  constructor(readonly answer: R) {}
}

export interface AttemptRunnerOptions<R> {
  timeoutMs: number;
  /** The policy's reading of an answer; an answer read as "rate_limited" is thrown as BackPressure. */
  classify: (result: R) => string;
  /** The provider's Retry-After, if the answer carried one: pauses the limiter for it. */
  retryAfterMs?: ((result: R) => number | undefined) | undefined;
}

/** A concurrency slot around `fn` (p-limit's, or an account's slot under an overall one). */
export type Slots = <T>(fn: () => Promise<T>) => Promise<T>;

export type RunAttempt<R> = (
  attempt: (signal: AbortSignal) => Promise<R>,
  signal: AbortSignal,
  onStart: () => void,
) => Promise<R>;

/**
 * The runner of single attempts. Slot and limiter are taken per attempt, the slot before the limiter token
 * (a token taken while queueing for a slot would let requests start in a burst later); the timeout covers only
 * the request. Throws BrokenCircuitError when the breaker opened while the attempt queued, BackPressure on a
 * 429, the signal's reason when it aborted, else what the timeout or the attempt threw.
 */
export function createAttemptRunner<R>(
  opts: AttemptRunnerOptions<R>,
  slots: Slots,
  limiter: RateLimiter,
  breaker: ProviderBreaker,
): RunAttempt<R> {
  // Aggressive: an attempt that ignores its signal still ends at the deadline (and frees its slot).
  const attemptTimeout = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive);

  const throwIfOpen = () => {
    // A call admitted while the breaker was closed may have queued for a slot or a token meanwhile.
    if (breaker.policy.state === CircuitState.Open) throw new BrokenCircuitError();
  };

  return (attempt, signal, onStart) =>
    slots(async () => {
      if (signal.aborted) throw signal.reason;
      throwIfOpen();
      const release = await limiter.acquire(signal);
      let result: R;
      try {
        // Let the answers already in hand take effect first: a 401 aborts its provider's signal a few
        // microtasks after it freed its slot, and the request that slot admitted must not go out.
        await setImmediate();
        if (signal.aborted) throw signal.reason;
        throwIfOpen();
        onStart();
        result = await attemptTimeout.execute(({ signal: attemptSignal }) => attempt(attemptSignal), signal);
      } catch (err) {
        // A pass shutting down is not the provider failing: keep it out of the breaker's count.
        if (signal.aborted) throw signal.reason;
        throw err;
      } finally {
        release();
      }
      const pause = opts.retryAfterMs?.(result);
      if (pause !== undefined && pause > 0) limiter.pauseFor(pause);
      if (opts.classify(result) === "rate_limited") throw new BackPressure(result);
      return result;
    });
}
