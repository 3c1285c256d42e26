import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleType,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from "cockatiel";
import pLimit from "p-limit";
import { atLeastRetryAfter } from "../retry/backoff.js";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.js";

/**
 * How the policy treats one provider answer. "ok" and "fatal" are both successes for the breaker: a 404 or a
 * terminal status is a good answer, and wrong credentials are not the provider failing.
 */
export type Classification = "ok" | "retryable" | "breaker_failure_no_retry" | "fatal";

export type BreakerState = "closed" | "half-open" | "open";

/** What `execute` returns instead of an answer; shaped so that callers can return it as error evidence. */
export interface PolicyRejection {
  kind: "error";
  reason: "circuit_open" | "timeout";
  detail: string;
}

export interface ProviderPolicyOptions<R> {
  provider: "twilio" | "openai";
  maxRps: number;
  concurrency: number;
  timeoutMs: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Consecutive failed attempts that open the breaker. */
  breakerThreshold?: number;
  breakerHalfOpenAfterMs?: number;
  classify: (result: R) => Classification;
  /** The provider's Retry-After, if the answer carried one: the minimum wait before the next attempt. */
  retryAfterMs?: (result: R) => number | undefined;
  onBreakerStateChange?: (state: BreakerState) => void;
  /** `result` is the timeout rejection when the attempt that failed timed out. */
  onRetry?: (info: { attempt: number; delayMs: number; result: R | PolicyRejection }) => void;
  /** Pass one limiter to several policies of the same provider so that they share one request budget. */
  limiter?: RateLimiter;
}

export interface ProviderPolicy<R> {
  /**
   * Runs `attempt` under the policy. `attempt` must not throw (probes return error evidence); if it does,
   * the error propagates unchanged, neither retried nor counted by the breaker.
   */
  execute(
    attempt: (signal: AbortSignal) => Promise<R>,
    outerSignal?: AbortSignal,
  ): Promise<R | PolicyRejection>;
  breakerState(): BreakerState;
  readonly limiter: RateLimiter;
}

// setTimeout's largest delay; the handle is cleared long before it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Composition, outermost first: retry → circuit breaker → concurrency slot → rate limiter → timeout → attempt.
 *
 * The breaker sits inside the retry, so it counts every attempt, not every logical call:
 * - a 500/503 burst opens it after `breakerThreshold` failed requests rather than threshold × maxAttempts;
 * - once it is open, retries already under way stop at their next attempt (BrokenCircuitError is never
 *   retried) instead of each call spending its remaining attempts on a provider known to be failing;
 * - half-open admits one request as the trial; its success closes the breaker, its failure re-opens it and
 *   the call that carried it ends as circuit_open at its next attempt.
 * Slot and limiter are taken per attempt, inside the breaker, so an open breaker costs neither, and a call
 * sleeping in backoff holds no slot. The slot is taken before the limiter token because a token taken while
 * queueing for a slot would let requests start in a burst later. The timeout covers only the request.
 */
export function createProviderPolicy<R>(opts: ProviderPolicyOptions<R>): ProviderPolicy<R> {
  const maxAttempts = opts.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a whole number of at least 1, got ${maxAttempts}`);
  }
  const threshold = opts.breakerThreshold ?? 5;
  const limiter = opts.limiter ?? createRateLimiter({ maxRps: opts.maxRps });
  const slots = pLimit(opts.concurrency);
  const isBreakerFailure = (r: unknown) => {
    const c = opts.classify(r as R);
    return c === "retryable" || c === "breaker_failure_no_retry";
  };

  const breaker = circuitBreaker(handleType(TaskCancelledError).orWhenResult(isBreakerFailure), {
    breaker: new ConsecutiveBreaker(threshold),
    halfOpenAfter: opts.breakerHalfOpenAfterMs ?? 30_000,
  });
  const notify = opts.onBreakerStateChange;
  if (notify) {
    breaker.onBreak(() => notify("open"));
    breaker.onHalfOpen(() => notify("half-open"));
    breaker.onReset(() => notify("closed"));
  }

  const backoff = new ExponentialBackoff({
    generator: decorrelatedJitterGenerator,
    initialDelay: opts.initialBackoffMs ?? 200,
    maxDelay: opts.maxBackoffMs ?? 10_000,
  });
  // Unref'd so that a backoff left behind by an aborted execute cannot hold a shutting-down process;
  // execute keeps the event loop alive itself while it is awaited (see `hold` below).
  const retryPolicy = retry(
    handleType(TaskCancelledError).orWhenResult((r) => opts.classify(r as R) === "retryable"),
    {
      maxAttempts: maxAttempts - 1,
      backoff: atLeastRetryAfter(backoff, { retryAfterMs: opts.retryAfterMs }),
    },
  ).dangerouslyUnref();
  const onRetry = opts.onRetry;
  if (onRetry) {
    retryPolicy.onRetry((e) => {
      const result = "error" in e ? timeoutRejection(opts.timeoutMs, e.attempt) : (e.value as R);
      onRetry({ attempt: e.attempt, delayMs: e.delay, result });
    });
  }

  // Aggressive: an attempt that ignores its signal still ends at the deadline (and frees its slot).
  const attemptTimeout = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive);

  const throwIfOpen = () => {
    // A call admitted while the breaker was closed may have queued for a slot or a token meanwhile.
    if (breaker.state === CircuitState.Open) throw new BrokenCircuitError();
  };

  const runAttempt = (attempt: (signal: AbortSignal) => Promise<R>, signal: AbortSignal): Promise<R> =>
    slots(async () => {
      if (signal.aborted) throw signal.reason;
      throwIfOpen();
      const release = await limiter.acquire(signal);
      let result: R;
      try {
        throwIfOpen();
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
      return result;
    });

  return {
    limiter,
    breakerState: () => breakerStateOf(breaker.state),

    async execute(attempt, outerSignal) {
      // A fresh signal per call, not a shared never-aborted one: every concurrent call adds listeners to it.
      const signal = outerSignal ?? new AbortController().signal;
      if (signal.aborted) return abandoned(opts.provider);
      let attempts = 0;
      const run = retryPolicy
        .execute(() => {
          // Checked here too: after an abort, the retry loop's next call must not become a half-open trial.
          if (signal.aborted) throw signal.reason;
          attempts++;
          return breaker.execute(() => runAttempt(attempt, signal), signal);
        }, signal)
        .catch((err: unknown): PolicyRejection => {
          if (signal.aborted) return abandoned(opts.provider);
          // instanceof, not cockatiel's is*Error helpers: in 3.2.1 isTaskCancelledError tests the bulkhead's marker.
          if (err instanceof BrokenCircuitError) {
            return {
              kind: "error",
              reason: "circuit_open",
              detail: `${opts.provider} circuit breaker is open (${threshold} consecutive failures); not asked`,
            };
          }
          if (err instanceof TaskCancelledError) return timeoutRejection(opts.timeoutMs, attempts);
          throw err;
        });
      let onAbort = () => {};
      const aborted = new Promise<PolicyRejection>((resolve) => {
        onAbort = () => resolve(abandoned(opts.provider));
        signal.addEventListener("abort", onAbort, { once: true });
      });
      const hold = setTimeout(() => {}, MAX_TIMER_MS);
      try {
        // Returns at once on abort; the retry loop left behind sees the aborted signal and stops by itself.
        return await Promise.race([run, aborted]);
      } finally {
        clearTimeout(hold);
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

function breakerStateOf(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return "closed";
  if (state === CircuitState.HalfOpen) return "half-open";
  // Isolated (never used here) refuses calls like Open. Open stays Open until a call arrives after
  // halfOpenAfter: cockatiel half-opens lazily, on the next execute.
  return "open";
}

function timeoutRejection(timeoutMs: number, attempts: number): PolicyRejection {
  return {
    kind: "error",
    reason: "timeout",
    detail: `no answer within ${timeoutMs} ms (attempt ${attempts})`,
  };
}

/** The caller stopped waiting (pass shutting down): as unverified as a timeout, never an answer. */
function abandoned(provider: string): PolicyRejection {
  return { kind: "error", reason: "timeout", detail: `abandoned: stopped before ${provider} answered` };
}
