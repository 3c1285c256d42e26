/** Event Streams CloudEvents shaped as Twilio delivers them, for the sink's tests. */

export const ACCOUNT_SID = `AC${"a1".repeat(16)}`;

export function callSid(n: number): string {
  return `CA${n.toString(16).padStart(32, "0")}`;
}

export interface CallEventOptions {
  id?: string;
  type?: string;
  callSid?: string;
  callStatus?: string;
  time?: string;
  responseCode?: unknown;
}

/** A status-callback event for one call (the current type name, `completed` unless told). */
export function callEvent(o: CallEventOptions = {}): Record<string, unknown> {
  const time = o.time ?? "2026-12-06T12:00:00.000Z";
  return {
    specversion: "1.0",
    type: o.type ?? "com.twilio.voice.status-callback.call.completed",
    source: "/2010-04-01/Accounts/AC/Calls/CA.json",
    id: o.id ?? "EV00000000000000000000000000000001",
    dataschema: "https://events-schemas.twilio.com/Voice.WebhookEvent/2",
    datacontenttype: "application/json",
    time,
    data: {
      sid: o.callSid ?? callSid(1),
      timestamp: time,
      accountSid: ACCOUNT_SID,
      requestDateCreated: "Sun, 06 Dec 2026 12:00:00 +0000",
      eventSid: "VW00000000000000000000000000000001",
      request: {
        method: "POST",
        url: "https://app.example.com/twilio/status",
        parameters: {
          CallSid: o.callSid ?? callSid(1),
          CallStatus: o.callStatus ?? "completed",
          CallDuration: "42",
          AccountSid: ACCOUNT_SID,
          Timestamp: "Sun, 06 Dec 2026 12:00:00 +0000",
        },
      },
      response: {
        responseCode: "responseCode" in o ? o.responseCode : 200,
        requestDuration: 120,
        contentType: "text/plain",
        responseBody: "",
        dateCreated: "Sun, 06 Dec 2026 12:00:00 +0000",
      },
    },
  };
}
