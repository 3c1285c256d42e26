import {
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleType,
  type IBreaker,
  SamplingBreaker,
  TaskCancelledError,
} from "cockatiel";
import { DEFAULT_BREAKER_MIN_THROUGHPUT } from "../config/config.js";

export type BreakerState = "closed" | "half-open" | "open";

export interface BreakerSettings {
  /** Opens when more than this share of the window's requests failed, in (0, 1). Default 0.5. */
  failureRate?: number;
  /** The sliding window the rate is measured over. Default 30 s. */
  windowMs?: number;
  /**
   * Requests per second over the window below which it never opens, however many of them failed: with few
   * requests, a handful of failing rows would be 100 %. Default 2 (see DEFAULT_BREAKER_MIN_THROUGHPUT).
   */
  minThroughput?: number;
  /** Open this long before one trial request may go. Default 30 s. */
  halfOpenAfterMs?: number;
}

export const BREAKER_DEFAULTS = {
  failureRate: 0.5,
  windowMs: 30_000,
  minThroughput: DEFAULT_BREAKER_MIN_THROUGHPUT,
  halfOpenAfterMs: 30_000,
} as const;

export interface ProviderBreaker {
  readonly policy: CircuitBreakerPolicy;
  state(): BreakerState;
}

/**
 * A circuit breaker that judges the provider by its failure rate: cockatiel's SamplingBreaker (rate over a
 * sliding window, with a minimum throughput) inside cockatiel's circuit breaker. `isFailure` says which answers
 * count against it; timeouts (TaskCancelledError) always do. Errors it does not handle are neither success nor
 * failure while closed (a 429 is thrown past it as one); a trial that ends that way closes it, like a success.
 */
export function createProviderBreaker(
  settings: BreakerSettings,
  isFailure: (result: unknown) => boolean,
  onStateChange?: (state: BreakerState) => void,
): ProviderBreaker {
  const s = { ...BREAKER_DEFAULTS, ...definedOnly(settings) };
  if (!(s.minThroughput > 0)) throw new RangeError(`minThroughput must be above 0, got ${s.minThroughput}`);
  const fresh = () =>
    new SamplingBreaker({ threshold: s.failureRate, duration: s.windowMs, minimumRps: s.minThroughput });
  let sampler = fresh();
  let lastSampleAt = Number.NEGATIVE_INFINITY;
  // SamplingBreaker advances its window by one slot per sample, so after a quiet spell (between passes) it
  // would still count samples older than the window: start over once the whole window has gone quiet.
  const current = () => {
    const now = Date.now();
    if (now - lastSampleAt >= s.windowMs) sampler = fresh();
    lastSampleAt = now;
    return sampler;
  };
  const sampling: IBreaker = {
    get state() {
      return sampler.state;
    },
    set state(value) {
      sampler.state = value;
    },
    success: (state) => current().success(state),
    failure: (state) => current().failure(state),
  };

  const policy = circuitBreaker(handleType(TaskCancelledError).orWhenResult(isFailure), {
    breaker: sampling,
    halfOpenAfter: s.halfOpenAfterMs,
  });

  policy.onBreak(() => onStateChange?.("open"));
  policy.onHalfOpen(() => onStateChange?.("half-open"));
  policy.onReset(() => {
    // A trial that succeeded starts a new window: the outage's failures must not re-open it.
    sampler = fresh();
    onStateChange?.("closed");
  });

  return {
    policy,
    state: () => stateOf(policy.state),
  };
}

function stateOf(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return "closed";
  if (state === CircuitState.HalfOpen) return "half-open";
  // Isolated (never used here) refuses calls like Open. Open stays Open until a call arrives after
  // halfOpenAfter: cockatiel half-opens lazily, on the next execute.
  return "open";
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
