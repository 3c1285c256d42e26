import { describe, expect, it } from "vitest";
import {
  type IgnoredReason,
  isStatusCallbackType,
  MAX_AHEAD_MS,
  readEventBatch,
} from "../../src/events/call-events.js";
import { ACCOUNT_SID, callEvent, callSid } from "../helpers/call-event.js";

const NOW = new Date("2026-12-06T12:00:00.000Z");
const LIMITS = { maxEvents: 10, maxAgeMs: 6 * 3600_000 };
const HOUR = 3600_000;

type Event = Record<string, unknown>;
type Data = Record<string, unknown> & { request: { parameters: Record<string, unknown> }; response: Event };

/** One event, changed by `edit` (its data and request parameters at hand). */
function edited(edit: (e: Event, data: Data, params: Record<string, unknown>) => void): Event {
  const e = callEvent();
  const data = e.data as Data;
  edit(e, data, data.request.parameters);
  return e;
}

function readOne(event: unknown) {
  const batch = readEventBatch(JSON.stringify([event]), NOW, LIMITS);
  if ("refused" in batch) throw new Error(`refused: ${batch.refused}`);
  return batch;
}

describe("readEventBatch: a whole delivery", () => {
  it.each([
    ["not JSON", "[{", "not_json"],
    ["empty", "", "not_json"],
    ["an object", JSON.stringify(callEvent()), "not_a_batch"],
    ["a string", '"[]"', "not_a_batch"],
    ["null", "null", "not_a_batch"],
    [
      "one event more than allowed",
      JSON.stringify(Array.from({ length: 11 }, () => callEvent())),
      "too_many_events",
    ],
  ])("%s is refused (%#)", (_what, body, refused) => {
    expect(readEventBatch(body, NOW, LIMITS)).toEqual({ refused });
  });

  it("an empty array is a delivery of nothing", () => {
    expect(readEventBatch("[]", NOW, LIMITS)).toEqual({ received: 0, nudges: [], ignored: [] });
  });

  it("as many events as allowed are read", () => {
    const events = Array.from({ length: 10 }, (_, i) => callEvent({ id: `EV${i}`, callSid: callSid(i + 1) }));
    const batch = readEventBatch(JSON.stringify(events), NOW, LIMITS);
    expect("refused" in batch ? batch.refused : batch.nudges.map((n) => n.callSid)).toEqual(
      events.map((_, i) => callSid(i + 1)),
    );
  });

  it("a terminal status callback becomes a nudge with the event's id, call, account, status, time and app answer", () => {
    expect(readOne(callEvent({ id: "EVabc", callSid: callSid(7), responseCode: 502 }))).toEqual({
      received: 1,
      nudges: [
        {
          eventId: "EVabc",
          callSid: callSid(7),
          accountSid: ACCOUNT_SID,
          callStatus: "completed",
          eventAt: NOW,
          appResponseCode: 502,
          callback: {
            url: "https://app.example.com/twilio/status",
            method: "POST",
            durationMs: 120,
            at: "2026-12-06T12:00:00.000Z",
          },
        },
      ],
      ignored: [],
    });
  });

  it("the callback's details are kept only when readable: an odd one is unknown, never a reason to drop the event", () => {
    const event = callEvent({ id: "EVodd" }) as {
      data: { request: Record<string, unknown>; response: unknown };
    };
    event.data.request.url = 42;
    event.data.request.method = "POST".repeat(10);
    event.data.response = { responseCode: 200, requestDuration: -1, dateCreated: "yesterday" };
    const read = readOne(event);
    expect("nudges" in read && read.nudges[0]?.callback).toEqual({
      url: null,
      method: null,
      durationMs: null,
      at: null,
    });
  });

  it("one bad event never refuses the others: each reason is counted once per event", () => {
    const events = [
      callEvent({ id: "EV1", callSid: callSid(1) }),
      "not an event",
      callEvent({ id: "EV2", callStatus: "ringing" }),
      callEvent({ id: "EV3", callStatus: "in-progress" }),
      callEvent({ id: "EV4", type: "com.twilio.messaging.message.delivered" }),
      callEvent({ id: "EV5", callSid: callSid(5), callStatus: "busy" }),
    ];
    const batch = readEventBatch(JSON.stringify(events), NOW, LIMITS);
    expect(batch).toMatchObject({
      received: 6,
      nudges: [{ eventId: "EV1" }, { eventId: "EV5", callStatus: "busy" }],
      ignored: [
        { reason: "other_type", count: 1 },
        { reason: "not_terminal", count: 2 },
        { reason: "malformed", count: 1 },
      ],
    });
  });
});

describe("readEventBatch: which event types are status callbacks", () => {
  it.each([
    ["com.twilio.voice.status-callback.call.completed", true],
    ["com.twilio.voice.status-callback.call.answered", true],
    ["com.twilio.voice.status-callback.call.ringing", true],
    ["com.twilio.voice.status-callback.call.initiated", true],
    ["com.twilio.voice.webhook.status-callback.call.completed", true],
    ["com.twilio.voice.webhook.status-callback.call.initiated", true],
    ["com.twilio.voice.status-callback.call.", false],
    ["com.twilio.voice.status-callback.call.hangup", false],
    ["com.twilio.voice.status-callback.amd.detected", false],
    ["com.twilio.voice.twiml.call.redirected", false],
    ["com.twilio.voice.insights.call-summary.complete", false],
    ["COM.TWILIO.VOICE.STATUS-CALLBACK.CALL.COMPLETED", false],
  ])("%s: %s", (type, expected) => {
    expect(isStatusCallbackType(type)).toBe(expected);
    const batch = readOne(callEvent({ type }));
    expect(batch.nudges.length).toBe(expected ? 1 : 0);
  });
});

describe("readEventBatch: call statuses", () => {
  it.each([
    ["completed", true],
    ["busy", true],
    ["failed", true],
    ["no-answer", true],
    ["canceled", true],
    ["queued", false],
    ["initiated", false],
    ["ringing", false],
    ["in-progress", false],
    ["answered", false],
    ["Completed", false],
    ["", false],
  ])("%s: nudges %s", (callStatus, nudges) => {
    const batch = readOne(callEvent({ callStatus }));
    expect(batch.nudges.map((n) => n.callStatus)).toEqual(nudges ? [callStatus] : []);
    expect(batch.ignored).toEqual(nudges ? [] : [{ reason: "not_terminal", count: 1 }]);
  });
});

describe("readEventBatch: one event passed over, and why", () => {
  const cases: Array<[string, unknown, IgnoredReason]> = [
    ["null", null, "malformed"],
    ["an array", [callEvent()], "malformed"],
    ["no type", edited((e) => delete e.type), "malformed"],
    ["a numeric type", edited((e) => (e.type = 7)), "malformed"],
    ["another product's event", callEvent({ type: "com.twilio.messaging.message.sent" }), "other_type"],
    ["no id", edited((e) => delete e.id), "malformed"],
    ["an empty id", callEvent({ id: "" }), "malformed"],
    ["a numeric id", edited((e) => (e.id = 12)), "malformed"],
    ["an id of 257 characters", callEvent({ id: "E".repeat(257) }), "malformed"],
    ["no data", edited((e) => delete e.data), "malformed"],
    ["data as a string", edited((e) => (e.data = "{}")), "malformed"],
    ["no request", edited((_e, d) => delete (d as Event).request), "malformed"],
    ["no parameters", edited((_e, d) => delete (d.request as Event).parameters), "malformed"],
    ["parameters as an array", edited((_e, d) => (d.request.parameters = [] as never)), "malformed"],
    ["no CallStatus", edited((_e, _d, p) => delete p.CallStatus), "malformed"],
    ["a CallStatus list", edited((_e, _d, p) => (p.CallStatus = ["completed"])), "malformed"],
    ["a non-terminal status", callEvent({ callStatus: "ringing" }), "not_terminal"],
    ["a Call SID of 31 hex digits", callEvent({ callSid: `CA${"a".repeat(31)}` }), "bad_call_sid"],
    ["a Call SID of 33 hex digits", callEvent({ callSid: `CA${"a".repeat(33)}` }), "bad_call_sid"],
    ["a Call SID not hex", callEvent({ callSid: `CA${"g".repeat(32)}` }), "bad_call_sid"],
    ["a Conference SID", callEvent({ callSid: `CF${"a".repeat(32)}` }), "bad_call_sid"],
    ["an OpenAI call id", callEvent({ callSid: "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce" }), "bad_call_sid"],
    [
      "no Call SID at all",
      edited((_e, d, p) => {
        delete p.CallSid;
        delete d.sid;
      }),
      "bad_call_sid",
    ],
    ["a numeric CallSid", edited((_e, _d, p) => (p.CallSid = 1)), "bad_call_sid"],
    ["an account not AC + 32 hex", edited((_e, _d, p) => (p.AccountSid = "AC123")), "bad_account_sid"],
    ["a numeric account", edited((_e, _d, p) => (p.AccountSid = 5)), "bad_account_sid"],
    [
      "a time without an offset",
      edited((e, d) => (e.time = d.timestamp = "2026-12-06T12:00:00")),
      "bad_time",
    ],
    [
      "a time in another format",
      edited((e, d) => (e.time = d.timestamp = "Sun, 06 Dec 2026 12:00:00 +0000")),
      "bad_time",
    ],
    [
      "no time at all",
      edited((e, d) => {
        delete e.time;
        delete d.timestamp;
      }),
      "bad_time",
    ],
    [
      "a day that does not exist",
      edited((e, d) => (e.time = d.timestamp = "2026-02-30T12:00:00Z")),
      "bad_time",
    ],
    ["a numeric time", edited((e, d) => (e.time = d.timestamp = NOW.getTime())), "bad_time"],
    [
      "an event 6 h and 1 ms old",
      callEvent({ time: new Date(NOW.getTime() - 6 * HOUR - 1).toISOString() }),
      "stale",
    ],
    ["an event of last week", callEvent({ time: "2026-11-29T12:00:00Z" }), "stale"],
    ["an event dated an hour ahead", callEvent({ time: "2026-12-06T13:00:00Z" }), "future"],
    [
      "an event dated just past the allowed skew",
      callEvent({ time: new Date(NOW.getTime() + MAX_AHEAD_MS + 1).toISOString() }),
      "future",
    ],
  ];
  it.each(cases.map(([what, event, reason]) => ({ what, event, reason })))(
    "$what: $reason",
    ({ event, reason }) => {
      const batch = readOne(event);
      expect(batch.nudges).toEqual([]);
      expect(batch.ignored).toEqual([{ reason, count: 1 }]);
    },
  );
});

describe("readEventBatch: the fields a nudge is read from", () => {
  it("the deprecated type name is read as the current one", () => {
    const batch = readOne(callEvent({ type: "com.twilio.voice.webhook.status-callback.call.completed" }));
    expect(batch.nudges.map((n) => n.callSid)).toEqual([callSid(1)]);
  });

  it("the Call SID comes from the request's parameters, data.sid standing in when they lack one", () => {
    const fromParams = edited((_e, d, p) => {
      p.CallSid = callSid(3);
      d.sid = callSid(4);
    });
    const fromSid = edited((_e, d, p) => {
      delete p.CallSid;
      d.sid = callSid(4);
    });
    expect(readOne(fromParams).nudges.map((n) => n.callSid)).toEqual([callSid(3)]);
    expect(readOne(fromSid).nudges.map((n) => n.callSid)).toEqual([callSid(4)]);
  });

  it("the account comes from the parameters, else data.accountSid, else it is unknown", () => {
    const other = `AC${"b2".repeat(16)}`;
    const fromData = edited((_e, d, p) => {
      delete p.AccountSid;
      d.accountSid = other;
    });
    const none = edited((_e, d, p) => {
      delete p.AccountSid;
      delete d.accountSid;
    });
    expect(readOne(callEvent()).nudges[0]?.accountSid).toBe(ACCOUNT_SID);
    expect(readOne(fromData).nudges[0]?.accountSid).toBe(other);
    expect(readOne(none).nudges[0]?.accountSid).toBeNull();
  });

  it("the time is the CloudEvent's, data.timestamp standing in when it is missing or unreadable", () => {
    const both = edited((e, d) => {
      e.time = "2026-12-06T11:00:00+01:00";
      d.timestamp = "2026-12-06T09:00:00Z";
    });
    const timestampOnly = edited((e, d) => {
      delete e.time;
      d.timestamp = "2026-12-06T09:00:00.250Z";
    });
    const garbledTime = edited((e, d) => {
      e.time = "yesterday";
      d.timestamp = "2026-12-06T08:00:00Z";
    });
    expect(readOne(both).nudges[0]?.eventAt).toEqual(new Date("2026-12-06T10:00:00Z"));
    expect(readOne(timestampOnly).nudges[0]?.eventAt).toEqual(new Date("2026-12-06T09:00:00.250Z"));
    expect(readOne(garbledTime).nudges[0]?.eventAt).toEqual(new Date("2026-12-06T08:00:00Z"));
  });

  it.each([
    [200, 200],
    [0, 0],
    [999, 999],
    [1000, null],
    [-1, null],
    [200.5, null],
    ["200", null],
    [null, null],
    [undefined, null],
  ])("responseCode %j is read as %j", (responseCode, expected) => {
    const batch = readOne(callEvent({ responseCode }));
    expect(batch.nudges.map((n) => n.appResponseCode)).toEqual([expected]);
  });

  it("an event without a response still nudges, its app answer unknown", () => {
    const batch = readOne(edited((_e, d) => delete (d as Event).response));
    expect(batch.nudges.map((n) => n.appResponseCode)).toEqual([null]);
  });

  it("ages up to the bounds are believed: exactly maxAgeMs old, exactly the skew ahead", () => {
    const oldest = callEvent({ time: new Date(NOW.getTime() - 6 * HOUR).toISOString() });
    const newest = callEvent({ time: new Date(NOW.getTime() + MAX_AHEAD_MS).toISOString() });
    expect(readOne(oldest).nudges).toHaveLength(1);
    expect(readOne(newest).nudges).toHaveLength(1);
  });

  it("maxAgeMs and maxAheadMs are the caller's", () => {
    const event = callEvent({ time: "2026-12-06T11:00:00Z" });
    const ahead = callEvent({ time: "2026-12-06T12:00:02Z" });
    const strict = { maxEvents: 10, maxAgeMs: HOUR - 1, maxAheadMs: 1000 };
    const read = (e: Event) => readEventBatch(JSON.stringify([e]), NOW, strict);
    expect(read(event)).toMatchObject({ nudges: [], ignored: [{ reason: "stale", count: 1 }] });
    expect(read(ahead)).toMatchObject({ nudges: [], ignored: [{ reason: "future", count: 1 }] });
  });
});
