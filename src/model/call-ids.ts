import type { ActiveCall, IdOwner } from "./call.js";

/** Twilio's Call SID: `CA` then 32 hex digits. */
const TWILIO_CALL_SID = /^CA[0-9a-fA-F]{32}$/;
/** `rtc_` then an opaque, printable, space-free token (e.g. rtc_u1_9c6574da8b8a41a18da9308f4ad974ce). */
const OPENAI_CALL_ID = /^rtc_[\x21-\x7e]{1,200}$/;

export function isCallSid(value: string): boolean {
  return TWILIO_CALL_SID.test(value);
}

export function isRealtimeCallId(value: string): boolean {
  return OPENAI_CALL_ID.test(value);
}

/** Whose id a value is, by its shape alone: the two shapes cannot overlap (`CA…` against `rtc_…`). */
export function idOwner(value: string): IdOwner {
  if (isCallSid(value)) return "twilio";
  if (isRealtimeCallId(value)) return "openai";
  return "neither";
}

/**
 * A row read from a table whose one id column holds both providers' ids (Twilio's Call SID for some calls,
 * OpenAI's realtime call id for others): the value goes to the provider whose shape it has, and only to it.
 * A value of neither shape goes to nobody: asking Twilio about an `rtc_` id, or OpenAI about a `CA` SID, can
 * only fail, and that failure would be counted against a provider that did nothing wrong.
 */
export function routeSharedId(row: ActiveCall): ActiveCall {
  const value = row.twilioSid ?? row.openaiId;
  if (value === null) return { ...row, twilioSid: null, openaiId: null };
  const owner = idOwner(value);
  return {
    ...row,
    twilioSid: owner === "twilio" ? value : null,
    openaiId: owner === "openai" ? value : null,
    sharedId: { value, owner },
  };
}
