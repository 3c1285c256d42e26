import { setTimeout as sleep } from "node:timers/promises";
import {
  BrokenCircuitError,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  type IBackoff,
  type IRetryBackoffContext,
  TaskCancelledError,
} from "cockatiel";
import pLimit from "p-limit";
import { atLeastRetryAfter } from "../retry/backoff.js";
import { BackPressure, createAttemptRunner, type Slots } from "./attempt-runner.js";
import { type BreakerSettings, type BreakerState, createProviderBreaker } from "./breaker.js";
import {
  abandoned,
  circuitOpen,
  isRejection,
  type PolicyRejection,
  timeoutRejection,
} from "./policy-answers.js";
import { createRateLimiter, type RateLimiter, underOverallLimit } from "./rate-limiter.js";

export type { BreakerState } from "./breaker.js";
export type { PolicyRejection } from "./policy-answers.js";

/**
 * How the policy treats one provider answer. "ok" and "fatal" are answers (a 404, a terminal status, wrong
 * credentials): never retried, never a breaker failure. "rate_limited" (429) is back-pressure: retried after
 * its Retry-After, bounded by time, and never a breaker failure. "retryable" (5xx, network) is a failure.
 */
export type Classification = "ok" | "retryable" | "rate_limited" | "breaker_failure_no_retry" | "fatal";

export interface ProviderPolicyOptions<R> {
  provider: "twilio" | "openai";
  maxRps: number;
  concurrency: number;
  timeoutMs: number;
  /** Attempts per call that may fail (5xx, timeout, network), the first included; 429s do not count. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long after its first attempt a call may still be retried after 429s. Default 60 s. */
  rateLimitBudgetMs?: number;
  /** Failure rate, window, minimum throughput and half-open delay of the breaker (see breaker.ts). */
  breakerFailureRate?: number;
  breakerWindowMs?: number;
  breakerMinThroughput?: number;
  breakerHalfOpenAfterMs?: number;
  classify: (result: R) => Classification;
  /** The provider's Retry-After, if the answer carried one: the minimum wait before the next attempt. */
  retryAfterMs?: (result: R) => number | undefined;
  onBreakerStateChange?: (state: BreakerState) => void;
  /** `result` is the timeout rejection when the attempt that failed timed out. */
  onRetry?: (info: { attempt: number; delayMs: number; result: R | PolicyRejection }) => void;
  /** Pass one limiter to several policies of the same provider so that they share one request budget. */
  limiter?: RateLimiter;
  /**
   * Caps shared with other policies of the same provider (one per Twilio account) on top of this policy's own:
   * each attempt takes its own slot and rate place first, then the shared ones.
   */
  overall?: { limiter?: RateLimiter | undefined; slots?: Slots | undefined };
}

export interface ProviderPolicy<R> {
  /**
   * Runs `attempt` under the policy. `attempt` must not throw (probes return error evidence); if it does,
   * the error propagates unchanged, neither retried nor counted by the breaker. When `outerSignal` aborts,
   * it returns at once: with the abort reason itself when that is an error value (`{kind: "error", reason,
   * detail}`, e.g. "credentials rejected earlier in this pass"), else as abandoned (never an answer).
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
 * The retry loop is ours, around cockatiel's breaker, timeout and backoff, because cockatiel's `retry` has one
 * attempt counter: here failures spend attempts while 429s spend time, and an open breaker is neither
 * retried against nor waited out.
 *
 * Composition, outermost first: retry loop → circuit breaker → concurrency slot → rate limiter → timeout →
 * attempt. The breaker sits inside the retries, so it judges every request, not every row:
 * - failures (5xx, timeouts, network) are retried up to `maxAttempts`; a 429 is retried after its Retry-After
 *   (which also pauses the provider's other requests) for as long as `rateLimitBudgetMs` allows;
 * - a call that meets the open breaker ends there at once: circuit_open, or its own last answer when it had
 *   already failed; the first call after the half-open delay carries the trial;
 * - slot and limiter are taken per attempt, inside the breaker: waiting for it, or for a backoff, costs neither.
 *   The slot is taken before the limiter token (a token taken while queueing for a slot would let requests
 *   start in a burst later). The timeout covers only the request (see attempt-runner.ts).
 */
export function createProviderPolicy<R>(opts: ProviderPolicyOptions<R>): ProviderPolicy<R> {
  const maxAttempts = opts.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a whole number of at least 1, got ${maxAttempts}`);
  }
  const rateLimitBudgetMs = opts.rateLimitBudgetMs ?? 60_000;
  const settings: BreakerSettings = {
    failureRate: opts.breakerFailureRate,
    windowMs: opts.breakerWindowMs,
    minThroughput: opts.breakerMinThroughput,
    halfOpenAfterMs: opts.breakerHalfOpenAfterMs,
  };
  const ownLimiter = opts.limiter ?? createRateLimiter({ maxRps: opts.maxRps });
  const limiter =
    opts.overall?.limiter === undefined ? ownLimiter : underOverallLimit(ownLimiter, opts.overall.limiter);
  const ownSlots = pLimit(opts.concurrency);
  const sharedSlots = opts.overall?.slots;
  const slots: Slots = sharedSlots === undefined ? ownSlots : (fn) => ownSlots(() => sharedSlots(fn));
  const breaker = createProviderBreaker(
    settings,
    (r) => {
      const c = opts.classify(r as R);
      return c === "retryable" || c === "breaker_failure_no_retry";
    },
    opts.onBreakerStateChange,
  );
  const backoff = atLeastRetryAfter(
    new ExponentialBackoff({
      generator: decorrelatedJitterGenerator,
      initialDelay: opts.initialBackoffMs ?? 200,
      maxDelay: opts.maxBackoffMs ?? 10_000,
    }),
    { retryAfterMs: opts.retryAfterMs },
  );
  const runAttempt = createAttemptRunner(opts, slots, limiter, breaker);

  /** One call: its attempts, retries and waits. Throws only the signal's reason or an attempt's own error. */
  const call = async (
    attempt: (signal: AbortSignal) => Promise<R>,
    signal: AbortSignal,
  ): Promise<R | PolicyRejection> => {
    const startedAt = performance.now();
    let attempts = 0;
    let failed: R | PolicyRejection | undefined;
    let failures = 0;
    let step: IBackoff<IRetryBackoffContext<unknown>> | undefined;
    const nextDelay = (result: { value: R } | { error: Error }): number => {
      const context = { attempt: attempts, result, signal };
      step = step === undefined ? backoff.next(context) : step.next(context);
      return step.duration;
    };
    const pause = (delayMs: number, answer: R | PolicyRejection) => {
      opts.onRetry?.({ attempt: attempts, delayMs, result: answer });
      return sleep(delayMs, undefined, { signal, ref: false });
    };

    for (;;) {
      if (signal.aborted) throw signal.reason;
      let answer: R | PolicyRejection;
      let result: { value: R } | { error: Error };
      try {
        answer = await breaker.policy.execute(() => runAttempt(attempt, signal, () => attempts++), signal);
        result = { value: answer as R };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        // instanceof, not cockatiel's is*Error helpers: in 3.2.1 isTaskCancelledError tests the bulkhead's marker.
        // Never waited out: a pass that waited for the half-open trial stopped moving for as long as the
        // breaker stayed open, long enough for its leader to give its lease up. The call is unverified now and
        // asked again next pass; the first call after the half-open delay carries the trial.
        if (err instanceof BrokenCircuitError) return failed ?? circuitOpen(opts.provider);
        if (err instanceof BackPressure) {
          const limited = err.answer as R;
          const delay = nextDelay({ value: limited });
          if (performance.now() + delay - startedAt > rateLimitBudgetMs) return limited;
          await pause(delay, limited);
          continue;
        }
        if (!(err instanceof TaskCancelledError)) throw err;
        answer = timeoutRejection(opts.timeoutMs, attempts);
        result = { error: err };
      }
      if ("error" in result || opts.classify(answer as R) === "retryable") {
        failed = answer;
        if (++failures >= maxAttempts) return answer;
        await pause(nextDelay(result), answer);
        continue;
      }
      return answer;
    }
  };

  return {
    limiter,
    breakerState: breaker.state,

    async execute(attempt, outerSignal) {
      // A fresh signal per call, not a shared never-aborted one: every concurrent call adds listeners to it.
      const signal = outerSignal ?? new AbortController().signal;
      const stopped = () => (isRejection(signal.reason) ? signal.reason : abandoned(opts.provider));
      if (signal.aborted) return stopped();
      const run = call(attempt, signal).catch((err: unknown) => {
        if (signal.aborted) return stopped();
        throw err;
      });
      let onAbort = () => {};
      const aborted = new Promise<PolicyRejection>((resolve) => {
        onAbort = () => resolve(stopped());
        signal.addEventListener("abort", onAbort, { once: true });
      });
      // The backoff and breaker timers are unref'd (one left behind by an aborted call must not hold a
      // shutting-down process); this keeps the event loop alive while the call is awaited.
      const hold = setTimeout(() => {}, MAX_TIMER_MS);
      try {
        // Returns at once on abort; the loop left behind sees the aborted signal and stops by itself.
        return await Promise.race([run, aborted]);
      } finally {
        clearTimeout(hold);
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
