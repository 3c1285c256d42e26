/** The simulator's IncomingPhoneNumbers: which numbers report a call's end through a status callback. */
import { createHash } from "node:crypto";
import { formatRfc2822 } from "./rfc2822.js";
import type { Reply } from "./twilio-sim-http.js";
import { pageOf } from "./twilio-sim-paging.js";
import type { HttpMethod } from "./twilio-sim-records-types.js";

export interface SimPhoneNumber {
  /** E.164, e.g. `+14155550100`. */
  phoneNumber: string;
  /** Default `PN` + 32 hex derived from the number, so a seed names the same SID every run. */
  sid?: string;
  /** Default the simulator's `accountSid` (the parent). */
  accountSid?: string;
  /** Default the number as Twilio formats it for display, e.g. `(415) 555-0100`. */
  friendlyName?: string;
  /**
   * Left out: answered as `""`, Twilio's value for an unset URL; null: answered as null. Either way the number
   * never reports a call's end (unless its application does).
   */
  statusCallback?: string | null;
  /** Default POST. */
  statusCallbackMethod?: HttpMethod;
  voiceUrl?: string | null;
  /** Default POST. */
  voiceMethod?: HttpMethod;
  /** An Application whose own status callback then applies instead of the number's. */
  voiceApplicationSid?: string | null;
  trunkSid?: string | null;
  /** Default the time of the first upsert. The list is ordered by it. */
  dateCreated?: Date;
}

type StoredNumber = SimPhoneNumber & { sid: string; accountSid: string; dateCreated: Date };

export const phoneNumberSid = (phoneNumber: string): string =>
  `PN${createHash("sha256").update(phoneNumber).digest("hex").slice(0, 32)}`;

/** `+14155550100` → `(415) 555-0100`, as Twilio names North American numbers; others stay as they are. */
function displayName(phoneNumber: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phoneNumber);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : phoneNumber;
}

function numberResource(n: StoredNumber): Record<string, unknown> {
  const date = formatRfc2822(n.dateCreated);
  return {
    account_sid: n.accountSid,
    address_sid: null,
    address_requirements: "none",
    api_version: "2010-04-01",
    beta: false,
    capabilities: { mms: true, sms: true, voice: true, fax: false },
    date_created: date,
    date_updated: date,
    friendly_name: n.friendlyName ?? displayName(n.phoneNumber),
    identity_sid: null,
    phone_number: n.phoneNumber,
    origin: "twilio",
    sid: n.sid,
    sms_application_sid: null,
    sms_fallback_method: "POST",
    sms_fallback_url: "",
    sms_method: "POST",
    sms_url: "",
    status_callback: n.statusCallback === undefined ? "" : n.statusCallback,
    status_callback_method: n.statusCallbackMethod ?? "POST",
    trunk_sid: n.trunkSid ?? null,
    uri: `/2010-04-01/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_receive_mode: "voice",
    voice_application_sid: n.voiceApplicationSid ?? null,
    voice_caller_id_lookup: false,
    voice_fallback_method: "POST",
    voice_fallback_url: null,
    voice_method: n.voiceMethod ?? "POST",
    voice_url: n.voiceUrl ?? null,
    emergency_status: "Inactive",
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    bundle_sid: null,
    status: "in-use",
  };
}

export class PhoneNumbers {
  private readonly numbers = new Map<string, StoredNumber>();

  constructor(private readonly defaultAccount: string) {}

  /** Replaces the number with the same SID. */
  upsert(n: SimPhoneNumber): void {
    const sid = n.sid ?? phoneNumberSid(n.phoneNumber);
    const dateCreated = n.dateCreated ?? this.numbers.get(sid)?.dateCreated ?? new Date();
    this.numbers.set(sid, { ...n, sid, accountSid: n.accountSid ?? this.defaultAccount, dateCreated });
  }

  remove(sid: string): boolean {
    return this.numbers.delete(sid);
  }

  list(accountSid: string, params: URLSearchParams): Reply {
    const wanted = params.get("PhoneNumber");
    const all = [...this.numbers.values()]
      .filter((n) => n.accountSid === accountSid && (wanted === null || n.phoneNumber === wanted))
      .sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime() || (a.sid < b.sid ? -1 : 1));
    const base = `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
    return pageOf(all, base, params, "incoming_phone_numbers", numberResource, ["PhoneNumber"]);
  }
}
