import type { Logger } from "../log.js";
import type {
  ActiveCall,
  DecisionPolicy,
  Evidence,
  OpenAIEvidence,
  ProviderProbes,
  SkipReason,
  TwilioEvidence,
  TwilioLiveStatus,
} from "../model/index.js";
import { rowAccount } from "./account-key.js";
import type { PassDeps } from "./pass-deps.js";
import { pastSessionCap } from "./session-cap.js";
import type { PassSightings } from "./sightings.js";

/** Twilio's live calls by SID, as one listing saw them. */
export interface LiveSet {
  get(sid: string): TwilioLiveStatus | undefined;
}

/** Each account's live set, listed the first time the pass needs it; null: ask that account per call. */
export interface LiveSets {
  forAccount(account: string | null): Promise<LiveSet | null>;
}

const CREDENTIAL_HINT = {
  twilio: "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
  openai: "OPENAI_API_KEY",
} as const;

type Provider = "twilio" | "openai";
/** What one stop covers: OpenAI, or one Twilio account (each has its own credentials' reach and breaker). */
type StopKey = "openai" | `twilio:${string}`;
/** An error answer for a call not asked: also the abort reason that stops a provider's queued requests. */
type NotAsked = { kind: "error"; reason: "auth_failed"; detail: string };

/**
 * Evidence for one pass. Wrong credentials stop that provider for the rest of the pass: one clear error line,
 * and no new request to it (the requests already queued in its policy are answered without being sent). An open
 * breaker needs no such stop: it answers circuit_open at once, and lets its half-open trial through when due.
 * Realtime absences are matched against earlier passes.
 */
export function passEvidence(parts: {
  probes: ProviderProbes;
  /** This pass's realtime sightings, loaded for each page before its rows are asked about. */
  sightings: PassSightings;
  logger: Logger;
  clock: () => Date;
  /** Twilio's live calls per account (list-diff); null: ask per call. */
  liveSets: LiveSets | null;
  /** TWILIO_ACCOUNT_SID: a row naming it is asked, and stopped, as a row naming no account. */
  configuredAccount?: string | undefined;
  policy: Pick<DecisionPolicy, "openaiMaxSessionSeconds">;
  realtimeProbe: PassDeps["realtimeProbe"];
}) {
  const { probes, sightings, logger, clock, liveSets, configuredAccount, realtimeProbe } = parts;
  const capSeconds = parts.policy.openaiMaxSessionSeconds;
  // Aborted with the answer that every later request there gets instead (the policy returns it).
  const stops = new Map<StopKey, AbortController>();
  const stopOf = (key: StopKey) => {
    let stop = stops.get(key);
    if (stop === undefined) {
      stop = new AbortController();
      stops.set(key, stop);
    }
    return stop;
  };
  const twilioKey = (account: string | null): StopKey => `twilio:${account ?? ""}`;

  /** Wrong credentials: one error line, and the rest of the pass does not ask that provider (or account). */
  const noteError = (
    provider: Provider,
    key: StopKey,
    e: { reason: string; httpStatus?: number | undefined },
    account: string | null = null,
  ) => {
    if (e.reason !== "auth_failed") return;
    const stop = stopOf(key);
    if (stop.signal.aborted) return;
    // Credentials the configured account accepts may still not reach a subaccount (closed, or another parent's).
    const where = account === null ? "" : ` for account ${account}`;
    const hint =
      account === null
        ? CREDENTIAL_HINT[provider]
        : "that it is a subaccount of TWILIO_ACCOUNT_SID, and is open";
    logger.error(
      { provider, httpStatus: e.httpStatus, ...(account === null ? {} : { account }) },
      `${provider} rejected the credentials${where}: check ${hint}; it is skipped for the rest of this pass`,
    );
    const notAsked: NotAsked = {
      kind: "error",
      reason: "auth_failed",
      detail: `${provider} credentials rejected${where} earlier in this pass`,
    };
    stop.abort(notAsked);
  };
  /**
   * The pass's signal and the provider's own, one per request (listeners are added per request): a request
   * not started yet is answered without being sent.
   */
  const signalFor = (key: StopKey, signal: AbortSignal | undefined) =>
    AbortSignal.any(signal === undefined ? [stopOf(key).signal] : [signal, stopOf(key).signal]);
  const notAsked = (key: StopKey): NotAsked | null =>
    stops.get(key)?.signal.aborted ? (stops.get(key)?.signal.reason as NotAsked) : null;

  const askTwilio = async (row: ActiveCall, sid: string, signal?: AbortSignal): Promise<TwilioEvidence> => {
    if (probes.twilio === null) throw new Error("unreachable: Twilio not configured");
    const account = rowAccount(row.twilioAccount, configuredAccount);
    const key = twilioKey(account);
    const stopped = notAsked(key);
    if (stopped !== null) return stopped;
    // Listed live a moment ago: that is Twilio's own answer, and keeping a call is never the risky side.
    // Anything not in the list is fetched on its own, which confirms the end and gives its true time.
    const listed = (await liveSets?.forAccount(account))?.get(sid);
    if (listed !== undefined) return { kind: "live", status: listed };
    const e = await probes.twilio.fetchCall(sid, account, signalFor(key, signal));
    if (e.kind === "error") noteError("twilio", key, e, account);
    return e;
  };

  const askOpenAI = async (
    row: ActiveCall,
    callId: string,
    signal?: AbortSignal,
  ): Promise<OpenAIEvidence | { kind: "skipped"; why: "within_session_cap" }> => {
    if (probes.openai === null) throw new Error("unreachable: OpenAI not configured");
    // By default a call that may still be live is not connected to at all: whether a second sideband disturbs
    // the app's own control connection is documented nowhere. Past the cap no session can be live.
    const pastCap = pastSessionCap(row.startedAt, clock(), capSeconds);
    if (!pastCap && realtimeProbe.mode !== "early") return { kind: "skipped", why: "within_session_cap" };
    const stopped = notAsked("openai");
    if (stopped !== null) return stopped;
    const o = await probes.openai.probeSession(callId, signalFor("openai", signal));
    // Spread: what was asked, and the request id, stay in the evidence (and so in the audit row).
    if (o.kind === "live") {
      const seenAt = clock();
      sightings.sawLive(callId, seenAt, pastCap);
      if (pastCap) realtimeProbe.cap.sawLivePastCap(callId, row.startedAt, seenAt, capSeconds);
      return { ...o };
    }
    if (o.kind === "gone") return { ...o, ...sightings.sawGone(callId, clock(), pastCap) };
    sightings.sawNothing(callId);
    noteError("openai", "openai", o);
    return { ...o };
  };

  return {
    /** Twilio decides whenever it can be asked; the realtime side only matters when Twilio had no say. */
    async gather(row: ActiveCall, signal?: AbortSignal): Promise<Evidence> {
      const twilio: Evidence["twilio"] =
        row.twilioSid === null
          ? { kind: "skipped", why: withoutId(row) }
          : probes.twilio === null
            ? { kind: "skipped", why: "not_configured" }
            : await askTwilio(row, row.twilioSid, signal);
      const openai: Evidence["openai"] =
        row.openaiId === null
          ? { kind: "skipped", why: withoutId(row) }
          : twilio.kind !== "skipped"
            ? { kind: "skipped", why: "not_needed" }
            : probes.openai === null
              ? { kind: "skipped", why: "not_configured" }
              : await askOpenAI(row, row.openaiId, signal);
      return { twilio, openai };
    },
  };
}

/** Why a provider has no id of this row to be asked about: none at all, or (one column) the other's or no one's. */
function withoutId(row: ActiveCall): Extract<SkipReason, "no_id" | "other_provider" | "unrecognised_id"> {
  const shared = row.sharedId;
  if (shared === undefined) return "no_id";
  return shared.owner === "neither" ? "unrecognised_id" : "other_provider";
}
