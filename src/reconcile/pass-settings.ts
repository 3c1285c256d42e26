import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import type { PassDeps } from "./pass-deps.js";
import { SessionCapCheck } from "./session-cap.js";

/** Findings kept for a pass's report; beyond it they are only counted (the pass stays flat in memory). */
const MAX_FINDINGS = 10_000;
/** Accounts whose rows the pass keeps busy at once when no overall cap says otherwise. */
const ACCOUNTS_IN_FLIGHT = 32;

/** What a pass takes from the settings: everything but its ports and its hooks. */
export type PassSettings = Pick<
  PassDeps,
  | "realtimeTrust"
  | "realtimeProbe"
  | "ageBoundMaxEndShare"
  | "twilioStrategy"
  | "policy"
  | "pageSize"
  | "concurrency"
  | "maxFindings"
>;

/**
 * The one place a pass's settings are read, defaults included: the daemon's wiring and the tests' deps both
 * come from here, so a test runs the modes production runs unless it says otherwise.
 */
export function passSettings(
  config: Config,
  logger: Logger,
  on: { capDisproved?: () => void; datesOnlyAccounts?: (accounts: number) => void } = {},
): PassSettings {
  const datesOnlyAccounts = new Set<string>();
  return {
    realtimeTrust: {
      liveControlSeconds: config.openaiLiveControlSeconds,
      maxEndShare: config.openaiMaxEndShare,
    },
    ageBoundMaxEndShare: config.ageBoundMaxEndShare,
    realtimeProbe: {
      mode: config.openaiProbe === "early" ? "early" : "after-cap",
      cap: new SessionCapCheck(logger, on.capDisproved),
    },
    policy: {
      minCallAgeSeconds: config.minCallAgeSeconds,
      maxCallDurationSeconds: config.maxCallDurationSeconds,
      absenceConfirmSeconds: config.reconcileIntervalSeconds,
      openaiMaxSessionSeconds: config.openaiMaxSessionSeconds,
    },
    pageSize: config.dbPageSize,
    twilioStrategy: {
      mode: config.twilioStrategy,
      listDiffThreshold: config.twilioListDiffThreshold,
      configuredAccount: config.twilio?.accountSid,
      datesOnlyAccounts,
      onDatesOnly: () => on.datesOnlyAccounts?.(datesOnlyAccounts.size),
    },
    // Enough rows in flight to keep both providers busy; each provider's own cap still applies.
    concurrency: passConcurrency(config),
    maxFindings: MAX_FINDINGS,
  };
}

/**
 * Rows checked at once. Each Twilio account has its own TWILIO_CONCURRENCY, so with a subaccount column the
 * pass keeps enough rows in flight for several accounts at once (or for the overall cap, when one is set).
 */
export function passConcurrency(config: Config): number {
  const twilio =
    config.calls.twilioAccount === undefined
      ? config.twilioConcurrency
      : (config.twilioTotalConcurrency ?? config.twilioConcurrency * ACCOUNTS_IN_FLIGHT);
  return twilio + config.openaiConcurrency;
}
