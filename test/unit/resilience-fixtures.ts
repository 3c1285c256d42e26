import { vi } from "vitest";
import {
  type Classification,
  createProviderPolicy,
  type ProviderPolicyOptions,
} from "../../src/providers/resilience.js";

/** A provider answer as the adapters would normalise it, reduced to what the policy looks at. */
export interface Answer {
  status: number;
  retryAfterMs?: number;
}

export function classify(a: Answer): Classification {
  if (a.status === 200 || a.status === 404) return "ok";
  if (a.status === 401 || a.status === 403) return "fatal";
  if (a.status === 429) return "rate_limited";
  if (a.status >= 500) return "retryable";
  return "breaker_failure_no_retry"; // e.g. a malformed 200 body
}

export function policy(overrides: Partial<ProviderPolicyOptions<Answer>> = {}) {
  return createProviderPolicy<Answer>({
    provider: "twilio",
    maxRps: 1000,
    concurrency: 10,
    timeoutMs: 1000,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    classify,
    retryAfterMs: (a) => a.retryAfterMs,
    ...overrides,
  });
}

export const HANG = Symbol("hang");

/** An attempt that gives the scripted answers in turn (the last one repeats) and records when each started. */
export function script(...answers: Array<Answer | typeof HANG>) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  const attempt = vi.fn(async (signal: AbortSignal): Promise<Answer> => {
    starts.push(performance.now());
    signals.push(signal);
    const next = answers[Math.min(starts.length - 1, answers.length - 1)] as Answer | typeof HANG;
    if (next === HANG) return new Promise<Answer>(() => {});
    return next;
  });
  return { attempt, starts, signals };
}
