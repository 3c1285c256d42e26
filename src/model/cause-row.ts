import type { EndSource } from "./call.js";
import type { Evidence } from "./evidence.js";
import type { EndRequest } from "./ports.js";
import { TWILIO_RECORDS_DELAY_MS } from "./twilio-records.js";

/** The cause row an end writes, in its transaction, before any store turns it into its own column types. */
export interface NewCauseRow {
  callId: string;
  runId: string;
  source: EndSource;
  callSid: string | null;
  /** The account to read Twilio's records under: the one asked, else the row's, else the configured one. */
  accountSid: string | null;
  direction: string | null;
  providerStatus: string;
  startedAt: Date;
  providerEndedAt: Date;
  endedHereAt: Date;
  /** null: a Twilio end, waiting for its diagnosis; any other end's cause is its source. */
  cause: string | null;
  /** When a Twilio end's diagnosis is due: once Twilio's records of the call are readable. */
  dueAt: Date | null;
}

const twilioOf = (evidence: unknown) => (evidence as Partial<Evidence> | null | undefined)?.twilio;

/** The cause row of the call `req` ended (`configuredAccount`: TWILIO_ACCOUNT_SID, for a row naming none). */
export function newCauseRow(req: EndRequest, configuredAccount: string | null): NewCauseRow {
  const t = twilioOf(req.evidence);
  const twilioEnd = req.source === "twilio" && req.call.twilioSid !== null;
  // Read only for a row with a Call SID: any other end's evidence need not be Twilio's shape.
  const asked = () => (t !== undefined && "asked" in t ? t.asked?.account : undefined);
  return {
    callId: req.call.id,
    runId: req.runId,
    source: req.source,
    callSid: req.call.twilioSid,
    accountSid: req.call.twilioSid === null ? null : (asked() ?? req.call.twilioAccount ?? configuredAccount),
    direction: t?.kind === "ended" ? (t.direction ?? null) : null,
    providerStatus: req.newStatus,
    startedAt: req.call.startedAt,
    providerEndedAt: req.endedAt,
    endedHereAt: req.decidedAt,
    cause: twilioEnd ? null : req.source,
    dueAt: twilioEnd
      ? new Date(Math.max(req.endedAt.getTime() + TWILIO_RECORDS_DELAY_MS, req.decidedAt.getTime()))
      : null,
  };
}
