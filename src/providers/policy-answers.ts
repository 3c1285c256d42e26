/** The error values a provider policy answers with when it has no answer of the provider's to give. */
import type { Asked } from "../model/index.js";

/** What `execute` returns instead of an answer; shaped so that callers can return it as error evidence. */
export interface PolicyRejection {
  kind: "error";
  reason: "circuit_open" | "timeout" | "auth_failed";
  detail: string;
}

/**
 * The policy's own answers (circuit open, timeout, abandoned) name what would have been asked too, like the
 * probe's: an audit row then always says which resource its evidence is about. A malformed id stays without.
 */
export function naming<R extends { asked?: Asked }>(answer: R, asked: Asked | null): R {
  return answer.asked !== undefined || asked === null ? answer : { ...answer, asked };
}

export function isRejection(value: unknown): value is PolicyRejection {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<PolicyRejection>;
  return v.kind === "error" && typeof v.reason === "string" && typeof v.detail === "string";
}

export function circuitOpen(provider: string): PolicyRejection {
  return {
    kind: "error",
    reason: "circuit_open",
    detail: `${provider} circuit breaker is open (too many recent failures); not asked, asked again next pass`,
  };
}

export function timeoutRejection(timeoutMs: number, attempts: number): PolicyRejection {
  return {
    kind: "error",
    reason: "timeout",
    detail: `no answer within ${timeoutMs} ms (attempt ${attempts})`,
  };
}

/** The caller stopped waiting (pass shutting down): as unverified as a timeout, never an answer. */
export function abandoned(provider: string): PolicyRejection {
  return { kind: "error", reason: "timeout", detail: `abandoned: stopped before ${provider} answered` };
}
