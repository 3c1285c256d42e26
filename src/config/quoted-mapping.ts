import type { CallsTableMapping } from "./config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "./identifiers.js";

/** The calls table's configured names, validated and quoted once, ready to be placed in SQL text. */
export function quotedMapping(m: CallsTableMapping) {
  return {
    table: quoteQualifiedIdentifier(m.table),
    id: q(m.id),
    sid: q(m.twilioSid),
    rtc: q(m.openaiId),
    status: q(m.status),
    started: q(m.startedAt),
    ended: q(m.endedAt),
    /** The account column, or null when CALLS_COL_TWILIO_ACCOUNT is unset. */
    account: m.twilioAccount === undefined ? null : q(m.twilioAccount),
    /** The duration column, or null when CALLS_COL_DURATION is unset. */
    duration: m.duration === undefined ? null : q(m.duration),
  };
}
