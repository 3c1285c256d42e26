import type { Logger } from "../log.js";
import type {
  ActiveCall,
  Evidence,
  OpenAIEvidence,
  ProviderProbes,
  TwilioEvidence,
  TwilioLiveStatus,
} from "../model/index.js";
import type { AbsenceMemory } from "./absences.js";

/** Twilio's live calls by SID, as one listing saw them. */
export interface LiveSet {
  get(sid: string): TwilioLiveStatus | undefined;
}

const CREDENTIAL_HINT = {
  twilio: "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
  openai: "OPENAI_API_KEY",
} as const;

/**
 * Evidence for one pass. Wrong credentials stop that provider for the rest of the pass (one clear error
 * line instead of one rejected request per row); realtime absences are matched against earlier passes.
 */
export function passEvidence(parts: {
  probes: ProviderProbes;
  absences: AbsenceMemory;
  logger: Logger;
  clock: () => Date;
  /** Twilio's live calls, listed once this pass (list-diff); null: ask per call. */
  liveSet: LiveSet | null;
}) {
  const { probes, absences, logger, clock, liveSet } = parts;
  const rejected = { twilio: false, openai: false };

  const credentialsRejected = (provider: "twilio" | "openai", status: number | undefined) => {
    if (rejected[provider]) return;
    rejected[provider] = true;
    logger.error(
      { provider, httpStatus: status },
      `${provider} rejected the credentials: check ${CREDENTIAL_HINT[provider]}; ${provider} is skipped for the rest of this pass`,
    );
  };
  const skippedForPass = (provider: "twilio" | "openai") =>
    ({
      kind: "error",
      reason: "auth_failed",
      detail: `${provider} credentials were rejected earlier in this pass`,
    }) as const;

  const askTwilio = async (sid: string, signal?: AbortSignal): Promise<TwilioEvidence> => {
    if (probes.twilio === null) throw new Error("unreachable: Twilio not configured");
    if (rejected.twilio) return skippedForPass("twilio");
    // Listed live a moment ago: that is Twilio's own answer, and keeping a call is never the risky side.
    // Anything not in the list is fetched on its own, which confirms the end and gives its true time.
    const listed = liveSet?.get(sid);
    if (listed !== undefined) return { kind: "live", status: listed };
    const e = await probes.twilio.fetchCall(sid, signal);
    if (e.kind === "error" && e.reason === "auth_failed") credentialsRejected("twilio", e.httpStatus);
    return e;
  };

  const askOpenAI = async (callId: string, signal?: AbortSignal): Promise<OpenAIEvidence> => {
    if (probes.openai === null) throw new Error("unreachable: OpenAI not configured");
    if (rejected.openai) return skippedForPass("openai");
    const o = await probes.openai.probeSession(callId, signal);
    if (o.kind === "live") {
      absences.sawLive(callId);
      return { kind: "live" };
    }
    if (o.kind === "gone") return { kind: "gone", firstSeenGoneAt: absences.sawGone(callId, clock()) };
    absences.sawNothing(callId);
    if (o.reason === "auth_failed") credentialsRejected("openai", o.httpStatus);
    return { kind: "error", reason: o.reason, detail: o.detail };
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
