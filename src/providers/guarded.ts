import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import { type Metrics, recordBreakerTransition, setBreakerState } from "../metrics/metrics.js";
import type {
  Asked,
  HangupResult,
  ProviderErrorReason,
  ProviderProbes,
  RealtimeObservation,
} from "../model/index.js";
import { createOpenAIProbe, isRealtimeCallId } from "./openai.js";
import { askEachSurface } from "./openai-surfaces.js";
import { naming } from "./policy-answers.js";
import { type BreakerState, type Classification, createProviderPolicy } from "./resilience.js";
import { createTwilioProbe } from "./twilio.js";
import { accountPolicies, guardedTwilio, type OverallCaps } from "./twilio-accounts.js";

type Provider = "twilio" | "openai";
type Answer = { kind: string; reason?: ProviderErrorReason; retryAfterMs?: number; asked?: Asked };

/**
 * Only failures that another attempt may fix are retried, and only they count against the breaker: never
 * 4xx, malformed bodies or unknown statuses. A 429 is back-pressure: retried after its Retry-After, not a failure.
 */
const RETRYABLE: ReadonlySet<string> = new Set(["server_error", "timeout", "network"]);

export function classifyAnswer(a: Answer): Classification {
  if (a.kind !== "error") return "ok";
  if (a.reason === "rate_limited") return "rate_limited";
  return a.reason !== undefined && RETRYABLE.has(a.reason) ? "retryable" : "fatal";
}

/** A bounded label: the error reason, or what kind of good answer it was. */
function outcomeLabel(a: Answer): string {
  return a.kind === "error" ? (a.reason ?? "error") : a.kind === "not_found" ? "not_found" : "ok";
}

export interface RawProviders {
  twilio: ReturnType<typeof createTwilioProbe> | null;
  openai: ReturnType<typeof createOpenAIProbe> | null;
}

/** Builds the SDK-backed probes from the config; a provider without credentials is left out. */
export function rawProviders(config: Config, opts: { twilioKeepAlive?: boolean } = {}): RawProviders {
  return {
    twilio:
      config.twilio === null
        ? null
        : createTwilioProbe({
            credentials: config.twilio,
            baseUrl: config.twilioApiBaseUrl,
            timeoutMs: config.providerTimeoutMs,
            keepAlive: opts.twilioKeepAlive ?? true,
          }),
    openai:
      config.openaiApiKey === null
        ? null
        : createOpenAIProbe({
            apiKey: config.openaiApiKey,
            baseUrl: config.openaiBaseUrl,
            timeoutMs: config.providerTimeoutMs,
          }),
  };
}

/**
 * Puts every provider request behind that provider's policy (rate limit, concurrency cap, timeout, retries
 * honouring Retry-After, circuit breaker) and counts it; the SDK a request needs is loaded before its policy
 * times it. The probes' own retries are off, so this is the
 * only layer that retries.
 */
export function guardProviders(
  config: Config,
  raw: RawProviders,
  metrics: Metrics,
  logger: Logger,
  /** Told when a breaker closes again after its trial succeeded: the provider is back. Must not throw. */
  onRecovered?: () => void,
): ProviderProbes {
  const logBreaker = (provider: Provider, state: BreakerState, account?: string) => {
    const fields = { provider, breaker: state, ...(account !== undefined ? { account } : {}) };
    if (state === "open")
      logger.warn(
        fields,
        `${provider} circuit breaker opened: its calls are unverified (circuit_open) without a request until a half-open trial succeeds`,
      );
    else logger.info(fields, `${provider} circuit breaker ${state}`);
  };
  const policyFor = (
    provider: Provider,
    maxRps: number,
    concurrency: number,
    perAccount?: { account: string; overall: OverallCaps; onBreakerStateChange: (s: BreakerState) => void },
  ) =>
    createProviderPolicy<Answer>({
      provider,
      maxRps,
      concurrency,
      ...(perAccount !== undefined ? { overall: perAccount.overall } : {}),
      timeoutMs: config.providerTimeoutMs,
      maxAttempts: config.providerMaxAttempts,
      breakerFailureRate: config.breakerFailureRate,
      breakerWindowMs: config.breakerWindowSeconds * 1000,
      breakerMinThroughput: config.breakerMinThroughput,
      breakerHalfOpenAfterMs: config.breakerHalfOpenSeconds * 1000,
      classify: classifyAnswer,
      retryAfterMs: (a) => a.retryAfterMs,
      onBreakerStateChange: (state) => {
        if (perAccount !== undefined) perAccount.onBreakerStateChange(state);
        else recordBreakerTransition(metrics, provider, state);
        logBreaker(provider, state, perAccount?.account);
        if (state === "closed") onRecovered?.();
      },
      onRetry: ({ attempt, delayMs, result }) =>
        logger.debug(
          {
            provider,
            ...(perAccount !== undefined ? { account: perAccount.account } : {}),
            attempt,
            delayMs: Math.round(delayMs),
            reason: outcomeLabel(result),
          },
          "retrying provider request",
        ),
    });
  const counted =
    <R extends Answer>(provider: Provider, request: (signal: AbortSignal) => Promise<R>) =>
    async (signal: AbortSignal): Promise<R> => {
      const stop = metrics.providerRequestDuration.startTimer({ provider });
      const answer = await request(signal);
      stop();
      metrics.providerRequests.inc({ provider, outcome: outcomeLabel(answer) });
      return answer;
    };

  const twilio = raw.twilio;
  const openai = raw.openai;
  const twilioPolicyOf = accountPolicies<Answer>(config, {
    make: (account, overall, onBreakerStateChange) =>
      policyFor("twilio", config.twilioMaxRps, config.twilioConcurrency, {
        account,
        overall,
        onBreakerStateChange,
      }),
    onBreakerStateChange: ({ state, worst }) => {
      metrics.circuitBreakerTransitions.inc({ provider: "twilio", to: state });
      setBreakerState(metrics, "twilio", worst);
    },
  });
  // Probe and hang-up share one budget and one breaker: they are the same provider.
  const openaiPolicy = policyFor("openai", config.openaiMaxRps, config.openaiConcurrency);
  return {
    twilio:
      twilio === null || config.twilio === null
        ? null
        : guardedTwilio(twilio, config.twilio.accountSid, twilioPolicyOf, (request) =>
            counted("twilio", request as (signal: AbortSignal) => Promise<Answer>),
          ),
    openai:
      openai === null || config.openaiProbe === "off"
        ? null
        : {
            // Each surface's handshake is a request of its own: the rate limit and the breaker see every one.
            probeSession: (id, signal) =>
              askEachSurface(config.openaiSurfaces, async (surface) => {
                await openai.ready("probe");
                return naming(
                  (await openaiPolicy.execute(
                    counted("openai", (s) =>
                      surface === "live" ? openai.attachLive(id, s) : openai.probeSession(id, s),
                    ),
                    signal,
                  )) as RealtimeObservation,
                  isRealtimeCallId(id) ? { callId: id } : null,
                );
              }),
          },
    hangupRealtime:
      openai === null || !config.hangupOrphanedRealtime
        ? null
        : async (id, signal) => {
            await openai.ready("hangup");
            return naming(
              (await openaiPolicy.execute(
                counted("openai", (s) => openai.hangup(id, s)),
                signal,
              )) as HangupResult,
              isRealtimeCallId(id) ? { callId: id } : null,
            );
          },
  };
}
