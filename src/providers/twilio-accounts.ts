/**
 * Twilio behind one policy per (sub)account. Twilio rate-limits each subaccount on its own, so each gets its own
 * rate limiter, concurrency cap and breaker (TWILIO_MAX_RPS, TWILIO_CONCURRENCY), made on first use; an
 * optional overall cap (TWILIO_TOTAL_MAX_RPS, TWILIO_TOTAL_CONCURRENCY) is shared by all of them. One slow or
 * failing customer's account then neither slows nor opens the breaker of another's.
 */
import pLimit from "p-limit";
import type { Config } from "../config/config.js";
import type { CallRecordsAnswer, ProviderProbes, TwilioEvidence, TwilioListAnswer } from "../model/index.js";
import type { Slots } from "./attempt-runner.js";
import { naming } from "./policy-answers.js";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.js";
import type { BreakerState, ProviderPolicy } from "./resilience.js";
import { isAccountSid, isCallSid, notAnAccount, type TwilioProbe, twilioAsked } from "./twilio.js";

export interface OverallCaps {
  limiter?: RateLimiter | undefined;
  slots?: Slots | undefined;
}

const SEVERITY: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

export interface AccountPolicyHooks<R> {
  make(
    account: string,
    overall: OverallCaps,
    onBreakerStateChange: (state: BreakerState) => void,
  ): ProviderPolicy<R>;
  /**
   * An account's breaker changed state. `worst` is the worst state over all accounts: the one breaker gauge
   * Twilio has (account SIDs are never metric labels: unbounded, and they name customers).
   */
  onBreakerStateChange(change: { account: string; state: BreakerState; worst: BreakerState }): void;
}

/** The policy of each account SID (already validated), made on first use. */
export function accountPolicies<R>(
  config: Pick<Config, "twilioTotalMaxRps" | "twilioTotalConcurrency">,
  hooks: AccountPolicyHooks<R>,
): (account: string) => ProviderPolicy<R> {
  const overall: OverallCaps = {
    limiter:
      config.twilioTotalMaxRps === null ? undefined : createRateLimiter({ maxRps: config.twilioTotalMaxRps }),
    slots: config.twilioTotalConcurrency === null ? undefined : pLimit(config.twilioTotalConcurrency),
  };
  const policies = new Map<string, ProviderPolicy<R>>();
  // Only accounts whose breaker is not closed: the worst state is read from a handful of entries.
  const notClosed = new Map<string, BreakerState>();
  const worst = (): BreakerState => {
    let w: BreakerState = "closed";
    for (const s of notClosed.values()) if (SEVERITY[s] > SEVERITY[w]) w = s;
    return w;
  };
  return (account) => {
    let policy = policies.get(account);
    if (policy === undefined) {
      policy = hooks.make(account, overall, (state) => {
        if (state === "closed") notClosed.delete(account);
        else notClosed.set(account, state);
        hooks.onBreakerStateChange({ account, state, worst: worst() });
      });
      policies.set(account, policy);
    }
    return policy;
  };
}

/**
 * A request timed and counted in the metrics. It gets its attempt's signal: aborted at the attempt's timeout
 * and when the caller's signal aborts (the pass ended), so that the request given up is destroyed.
 */
type Counted = (
  request: (signal: AbortSignal) => Promise<unknown>,
) => (signal: AbortSignal) => Promise<unknown>;
type Executes = Pick<ProviderPolicy<unknown>, "execute">;

/**
 * The Twilio port: each request under the policy of the account it is about, once the SDK is loaded (outside
 * the policy's timeout). An account column value that is not an Account SID is answered without a request (and
 * never becomes a policy, a URL or a label).
 */
export function guardedTwilio(
  twilio: TwilioProbe,
  configuredAccount: string,
  policyOf: (account: string) => Executes,
  counted: Counted,
): NonNullable<ProviderProbes["twilio"]> {
  return {
    async fetchCall(sid, account, signal) {
      const accountSid = account ?? configuredAccount;
      if (!isAccountSid(accountSid)) return notAnAccount(accountSid);
      await twilio.ready();
      const answer = (await policyOf(accountSid).execute(
        counted((s) => twilio.fetchCall(sid, account, s)),
        signal,
      )) as TwilioEvidence;
      return naming(answer, isCallSid(sid) ? twilioAsked(sid, accountSid) : null);
    },
    async fetchCallRecords(kind, callSid, account, signal) {
      if (!isAccountSid(account)) return notAnAccount(account);
      await twilio.ready();
      return (await policyOf(account).execute(
        counted((s) => twilio.fetchCallRecords(kind, callSid, account, s)),
        signal,
      )) as CallRecordsAnswer;
    },
    async listCallsPage(query, pageUri, signal) {
      const accountSid = query.account ?? configuredAccount;
      if (!isAccountSid(accountSid)) return notAnAccount(accountSid);
      await twilio.ready();
      return (await policyOf(accountSid).execute(
        counted((s) => twilio.listCallsPage(query, pageUri, s)),
        signal,
      )) as TwilioListAnswer;
    },
  };
}
