import type { Logger } from "../log.js";
import type {
  ActiveCall,
  Evidence,
  OpenAIEvidence,
  ProviderProbes,
  TwilioEvidence,
  TwilioLiveStatus,
} from "../model/index.js";
import type { PassSightings } from "./sightings.js";

/** Twilio's live calls by SID, as one listing saw them. */
export interface LiveSet {
  get(sid: string): TwilioLiveStatus | undefined;
}

const CREDENTIAL_HINT = {
  twilio: "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
  openai: "OPENAI_API_KEY",
} as const;

type Provider = "twilio" | "openai";
/** An error answer for a call not asked: also the abort reason that stops a provider's queued requests. */
type NotAsked = { kind: "error"; reason: "auth_failed" | "circuit_open"; detail: string };

/**
 * Evidence for one pass. Wrong credentials stop that provider for the rest of the pass: one clear error line,
 * and no new request to it (the requests already queued in its policy are answered without being sent). So does
 * a breaker that stayed open through a call's whole wait for its half-open trial: the provider is down, and the
 * rest of the pass does not wait for it row after row. Realtime absences are matched against earlier passes.
 */
export function passEvidence(parts: {
  probes: ProviderProbes;
  /** This pass's realtime sightings, loaded for each page before its rows are asked about. */
  sightings: PassSightings;
  logger: Logger;
  clock: () => Date;
  /** Twilio's live calls, listed once this pass (list-diff); null: ask per call. */
  liveSet: LiveSet | null;
}) {
  const { probes, sightings, logger, clock, liveSet } = parts;
  // Aborted with the answer that every later request to that provider gets instead (the policy returns it).
  const stops = { twilio: new AbortController(), openai: new AbortController() };

  const stopProvider = (provider: Provider, answer: NotAsked, log: () => void) => {
    if (stops[provider].signal.aborted) return;
    log();
    stops[provider].abort(answer);
  };
  const noteError = (provider: Provider, e: { reason: string; httpStatus?: number | undefined }) => {
    if (e.reason === "auth_failed")
      stopProvider(
        provider,
        {
          kind: "error",
          reason: "auth_failed",
          detail: `${provider} credentials rejected earlier in this pass`,
        },
        () =>
          logger.error(
            { provider, httpStatus: e.httpStatus },
            `${provider} rejected the credentials: check ${CREDENTIAL_HINT[provider]}; ${provider} is skipped for the rest of this pass`,
          ),
      );
    else if (e.reason === "circuit_open")
      stopProvider(
        provider,
        {
          kind: "error",
          reason: "circuit_open",
          detail: `${provider} circuit breaker stayed open through its half-open trial earlier in this pass`,
        },
        () =>
          logger.warn(
            { provider },
            `${provider} is still failing after its breaker's half-open trial: the rest of this pass does not ask it`,
          ),
      );
  };
  /**
   * The pass's signal and the provider's own, one per request (listeners are added per request): a request
   * not started yet is answered without being sent.
   */
  const signalFor = (provider: Provider, signal: AbortSignal | undefined) =>
    AbortSignal.any(signal === undefined ? [stops[provider].signal] : [signal, stops[provider].signal]);
  const notAsked = (provider: Provider): NotAsked | null =>
    stops[provider].signal.aborted ? (stops[provider].signal.reason as NotAsked) : null;

  const askTwilio = async (sid: string, signal?: AbortSignal): Promise<TwilioEvidence> => {
    if (probes.twilio === null) throw new Error("unreachable: Twilio not configured");
    const stopped = notAsked("twilio");
    if (stopped !== null) return stopped;
    // Listed live a moment ago: that is Twilio's own answer, and keeping a call is never the risky side.
    // Anything not in the list is fetched on its own, which confirms the end and gives its true time.
    const listed = liveSet?.get(sid);
    if (listed !== undefined) return { kind: "live", status: listed };
    const e = await probes.twilio.fetchCall(sid, signalFor("twilio", signal));
    if (e.kind === "error") noteError("twilio", e);
    return e;
  };

  const askOpenAI = async (callId: string, signal?: AbortSignal): Promise<OpenAIEvidence> => {
    if (probes.openai === null) throw new Error("unreachable: OpenAI not configured");
    const stopped = notAsked("openai");
    if (stopped !== null) return stopped;
    const o = await probes.openai.probeSession(callId, signalFor("openai", signal));
    // Spread: what was asked, and the request id, stay in the evidence (and so in the audit row).
    if (o.kind === "live") {
      sightings.sawLive(callId, clock());
      return { ...o };
    }
    if (o.kind === "gone") return { ...o, ...sightings.sawGone(callId, clock()) };
    sightings.sawNothing(callId);
    noteError("openai", o);
    return { ...o };
  };

  return {
    /** Twilio decides whenever it can be asked; the realtime side only matters when Twilio had no say. */
    async gather(row: ActiveCall, signal?: AbortSignal): Promise<Evidence> {
      const twilio: Evidence["twilio"] =
        row.twilioSid === null
          ? { kind: "skipped", why: "no_id" }
          : probes.twilio === null
            ? { kind: "skipped", why: "not_configured" }
            : await askTwilio(row.twilioSid, signal);
      const openai: Evidence["openai"] =
        row.openaiId === null
          ? { kind: "skipped", why: "no_id" }
          : twilio.kind !== "skipped"
            ? { kind: "skipped", why: "not_needed" }
            : probes.openai === null
              ? { kind: "skipped", why: "not_configured" }
              : await askOpenAI(row.openaiId, signal);
      return { twilio, openai };
    },
  };
}
